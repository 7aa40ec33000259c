"""``make run`` twice: the second run starts on the first one's data (disclosures, findings,
alerts and logs still there) and replaces the demo's webhook subscription instead of adding one;
every line the services logged is JSON with an RFC 3339 UTC time, and holds no API key or
webhook secret.

The launcher itself runs (``deploy/local/run.py``, as ``make run`` calls it) with its folder in
a temporary directory; the test reads the printed MongoDB URI and looks while it runs.
"""

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from laboursight_schemas import collections

pytestmark = pytest.mark.e2e

RUN = Path(__file__).resolve().parents[2] / "deploy" / "local" / "run.py"
READY_S = 120.0
MONGODB = re.compile(r"MongoDB at (mongodb://\S+)")
KEY = re.compile(r"\bls_[A-Za-z0-9_.-]+")
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


class Launcher:
    """``run.py`` as a process, its output read line by line."""

    def __init__(self, folder: Path, *args: str) -> None:
        env = {**os.environ, "LABOURSIGHT_RUN_DIR": str(folder)}
        self.process = subprocess.Popen(
            [sys.executable, str(RUN), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: Queue[str] = Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = READY_S) -> str:
        """The first line holding ``text``, printed already or within ``timeout``."""
        earlier = [line for line in self.seen if text in line]
        if earlier:
            return earlier[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except Empty:
                assert self.process.poll() is None, "".join(self.seen)
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {timeout:g} s:\n{''.join(self.seen)}")

    def mongodb_uri(self) -> str:
        found = MONGODB.search("".join(self.seen))
        assert found is not None
        return found.group(1)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(60)


def _counts(uri: str) -> dict[str, Any]:
    client: MongoClient[dict[str, Any]] = MongoClient(uri, tz_aware=True)
    with client:
        return _counted(client["laboursight"])


def _counted(db: Database[dict[str, Any]]) -> dict[str, Any]:
    return {
        name: db[name].count_documents({"tenant_id": "dev"})
        for name in (collections.DISCLOSURES, collections.ALERTS, collections.SUBSCRIPTIONS)
    }


def _settled_counts(uri: str) -> dict[str, Any]:
    """The counts once risk has recorded findings for every disclosure: it writes a disclosure's
    findings and its alerts in one transaction, so no alert of these disclosures comes later."""
    client: MongoClient[dict[str, Any]] = MongoClient(uri, tz_aware=True)
    deadline = time.monotonic() + READY_S
    with client:
        db = client["laboursight"]
        while time.monotonic() < deadline:
            disclosures = db[collections.DISCLOSURES].count_documents({"tenant_id": "dev"})
            if db[collections.FINDINGS].count_documents({"tenant_id": "dev"}) >= disclosures:
                return _counted(db)
            time.sleep(0.2)
    raise AssertionError(f"risk recorded no findings for some disclosures within {READY_S:g} s")


def _webhook_secrets(uri: str) -> set[str]:
    """Every signing secret of the demo's subscriptions, and its key part without the prefix."""
    client: MongoClient[dict[str, Any]] = MongoClient(uri, tz_aware=True)
    with client:
        found = client["laboursight"][collections.SUBSCRIPTIONS].find(
            {"tenant_id": "dev"}, {"secret": True, "previous_secret": True}
        )
        made = {d[name] for d in found for name in ("secret", "previous_secret") if d.get(name)}
    return made | {s.removeprefix("whsec_") for s in made}


def test_a_second_run_starts_on_the_first_one_s_data(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    first = Launcher(folder)
    try:
        first.wait_for("a fresh start")
        first.wait_for("ALERT received")
        first.wait_for("waiting for alerts")
        before = _settled_counts(first.mongodb_uri())
        secrets = _webhook_secrets(first.mongodb_uri())
    finally:
        first.stop()
    assert first.process.returncode == 0
    assert before[collections.DISCLOSURES] > 0
    assert before[collections.ALERTS] > 0

    second = Launcher(folder)
    try:
        second.wait_for("the data of earlier runs kept")
        second.wait_for("waiting for alerts")
        after = _counts(second.mongodb_uri())
        secrets |= _webhook_secrets(second.mongodb_uri())
    finally:
        second.stop()

    assert after == before
    assert (folder / "logs" / "api.log").read_text().count("Started server process") == 2
    keys = set(KEY.findall("".join(first.seen + second.seen)))
    assert len(keys) == 4
    assert secrets
    for log in sorted((folder / "logs").glob("*.log")):
        text = log.read_text()
        assert not [k for k in keys if k in text], f"{log.name} holds an API key"
        assert not [s for s in secrets if s in text], f"{log.name} holds a webhook secret"
        for line in text.splitlines():
            record = json.loads(line)
            assert RFC3339_UTC.match(record["time"]), (log.name, line)
    assert json.loads((folder / "demo.json").read_text())["subscription_id"]
