"""``laboursight-api upload``: send a file of disclosures to the batch ingest, follow its
progress, and list the lines it rejected.

The upload is retried on a 503 or a lost connection: the same bytes from the same key are the
same batch (or, with ``--idempotency-key``, that key), so a retry never adds a line twice. The
standard library's HTTP client is enough for one upload and a poll a second.
"""

import json
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol, TextIO

ATTEMPTS: Final = 5
BAR_WIDTH: Final = 30
MEDIA: Final = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


class UploadFailed(Exception):
    """The upload could not be made or followed; the message says why, in one line."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


class Transport(Protocol):
    def __call__(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> Answer: ...


def http(base_url: str, key: str, timeout_s: float) -> Transport:
    """Requests to the api at ``base_url`` with ``key``; raises UploadFailed when unreachable."""

    def send(method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Answer:
        request = urllib.request.Request(
            base_url.rstrip("/") + path,
            data=body,
            method=method,
            headers={**headers, "Authorization": f"Bearer {key}", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                return Answer(response.status, _json(response.read()), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Answer(error.code, _json(error.read()), dict(error.headers))
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise UploadFailed(f"cannot reach the api at {base_url}: {reason}") from None

    return send


def _json(raw: bytes) -> dict[str, Any]:
    try:
        found = json.loads(raw)
    except ValueError:
        return {"detail": raw[:200].decode(errors="replace")}
    return found if isinstance(found, dict) else {"detail": str(found)}


def media_type(path: Path, given: str | None) -> str:
    return MEDIA[given or ("csv" if path.suffix.lower() == ".csv" else "jsonl")]


def submit(
    send: Transport,
    body: bytes,
    media: str,
    idempotency_key: str | None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """The batch the api made of ``body``: retried on a 503 or a lost connection."""
    headers = {"Content-Type": media}
    if idempotency_key is not None:
        headers["Idempotency-Key"] = f'"{idempotency_key}"'
    attempt = 1
    while True:
        try:
            answer = send("POST", "/v1/disclosures:batch", body, headers)
        except UploadFailed:
            if attempt == ATTEMPTS:
                raise
            wait = float(attempt)
        else:
            if answer.status == 202:
                return answer.body
            if answer.status != 503 or attempt == ATTEMPTS:
                raise UploadFailed(_problem(answer))
            wait = float(answer.headers.get("Retry-After", attempt))
        sleep(wait)
        attempt += 1


def follow(
    send: Transport,
    batch: dict[str, Any],
    show: Callable[[dict[str, Any]], None],
    poll_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll the batch until every line is judged, showing each change; returns its last state."""
    shown: dict[str, Any] | None = None
    while True:
        if batch["lines"] != shown:
            show(batch)
            shown = batch["lines"]
        if batch["status"] == "done":
            return batch
        sleep(poll_s)
        answer = send("GET", batch["status_url"], None, {})
        if answer.status != 200:
            raise UploadFailed(_problem(answer))
        batch = answer.body


def rejected(send: Transport, batch: dict[str, Any]) -> Iterator[dict[str, Any]]:
    url: str | None = batch["results_url"] + "?outcome=rejected&limit=1000"
    while url is not None:
        answer = send("GET", url, None, {})
        if answer.status != 200:
            raise UploadFailed(_problem(answer))
        yield from answer.body["results"]
        url = answer.body["next"]


def _problem(answer: Answer) -> str:
    body = answer.body
    fields = "; ".join(f"{e['field']}: {e['message']}" for e in body.get("errors") or [])
    return f"the api answered {answer.status}: {body.get('detail', '')}" + (
        f" ({fields})" if fields else ""
    )


class Progress:
    """A bar redrawn in place on a terminal; elsewhere (a log, a pipe) one line per change."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._tty = out.isatty()

    def __call__(self, batch: dict[str, Any]) -> None:
        lines = batch["lines"]
        total = lines["total"] or 1
        judged = lines["accepted"] + lines["rejected"]
        filled = BAR_WIDTH * judged // total
        text = (
            f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {judged * 100 // total:3d}% "
            f"{judged:,}/{lines['total']:,} lines: {lines['accepted']:,} accepted, "
            f"{lines['rejected']:,} rejected, {lines['pending']:,} pending"
        )
        self._out.write(f"\r{text}" if self._tty else f"{text}\n")
        if self._tty and batch["status"] == "done":
            self._out.write("\n")
        self._out.flush()


def upload(
    send: Transport,
    path: Path,
    media: str,
    idempotency_key: str | None,
    poll_s: float,
    out: TextIO = sys.stdout,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """The exit status: 0 when every line was accepted, 1 when any was rejected."""
    batch = submit(send, path.read_bytes(), media, idempotency_key, sleep)
    out.write(f"batch {batch['batch_id']}: {batch['status_url']}\n")
    done = follow(send, batch, Progress(out), poll_s, sleep)
    for result in rejected(send, done):
        for error in result["errors"]:
            out.write(f"line {result['line']}: {error['field']}: {error['message']}\n")
    return 1 if done["lines"]["rejected"] else 0
