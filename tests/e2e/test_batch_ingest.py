"""Batch ingest on the running system: an upload's good lines end in findings, its bad lines are
reported by line and JSON path, a retried upload adds nothing, and another tenant sees nothing;
and ``laboursight-api upload`` does the same from the command line."""

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.system import ALERT_WITHIN_S, System, wait_for_status
from tests.factories import BONDED_SUPPLIER, CLEAN_SUPPLIER, supplier

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

JSONL = {"content-type": "application/x-ndjson"}
BIN = Path(sys.executable).parent
# An entity of its own: the pipeline tests expect the first alert of BONDED_SUPPLIER's.
BATCH_BONDED = supplier(
    BONDED_SUPPLIER, supplier={**BONDED_SUPPLIER["supplier"], "supplier_id": "SUP-667"}
)


def _upload(*lines: Any) -> bytes:
    return b"".join(
        (line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines
    )


def _finished(client: Any, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + ALERT_WITHIN_S
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(url).json()
        if body["status"] == "done":
            return body
        time.sleep(0.2)
    raise AssertionError(f"the batch never finished: {body}")


def test_an_upload_is_screened_line_by_line(system: System, keys: dict[str, str]) -> None:
    bad = supplier(working_time={"avg_weekly_hours": -5})
    body = _upload(BATCH_BONDED, bad, b"[1,", CLEAN_SUPPLIER)
    headers = {**JSONL, "Idempotency-Key": f'"e2e-{time.time_ns()}"'}
    with system.client(keys["submitter"]) as submitter:
        answer = submitter.post("/v1/disclosures:batch", content=body, headers=headers)
        assert answer.status_code == 202, answer.text
        batch = _finished(submitter, answer.headers["Location"])
        lines = submitter.get(batch["results_url"]).json()["results"]
        accepted = [line["disclosure_id"] for line in lines if line["outcome"] == "accepted"]
        statuses = [wait_for_status(submitter, d, "screened") for d in accepted]
        retried = submitter.post("/v1/disclosures:batch", content=body, headers=headers)

    assert batch["lines"] == {"total": 4, "accepted": 2, "rejected": 2, "pending": 0}
    assert [(line["line"], line["outcome"]) for line in lines] == [
        (1, "accepted"),
        (2, "rejected"),
        (3, "rejected"),
        (4, "accepted"),
    ]
    assert lines[1]["errors"][0]["field"] == "$.working_time.avg_weekly_hours"
    assert lines[2]["code"] == "invalid_json"
    assert "debt_bondage" in {f["indicator"] for f in statuses[0]["findings"]}
    assert statuses[1]["judgement"]["risk_level"] == "low"
    alert = system.receiver.wait_for(
        lambda event: event["correlationid"] == accepted[0], ALERT_WITHIN_S
    )
    assert alert["data"]["risk_level"] == "critical"
    assert retried.json()["batch_id"] == batch["batch_id"]
    assert retried.json()["lines"] == batch["lines"]
    with system.client(keys["other_analyst"]) as stranger:
        for url in (batch["status_url"], batch["results_url"]):
            assert stranger.get(url).status_code == 404
    with system.client(keys["analyst"]) as analyst:
        assert analyst.get(batch["status_url"]).json()["lines"]["accepted"] == 2


def test_the_uploader_shows_progress_and_the_rejected_lines(
    system: System, keys: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "disclosures.jsonl"
    ref = f"uploader-{time.time_ns()}"  # a file of its own, so a batch of its own
    file.write_bytes(
        _upload(
            supplier(external_ref=ref),
            supplier(external_ref=ref, working_time={"avg_weekly_hours": -5}),
        )
    )
    command = [
        str(BIN / "laboursight-api"),
        "upload",
        str(file),
        "--url",
        system.api,
        "--key",
        keys["submitter"],
        "--poll",
        "0.1",
    ]

    first = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    again = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    assert first.returncode == 1, first.stderr
    output = first.stdout.splitlines()
    assert output[-2].endswith("2/2 lines: 1 accepted, 1 rejected, 0 pending")
    assert output[-1].startswith("line 2: $.working_time.avg_weekly_hours: ")
    assert again.stdout.splitlines()[0] == output[0]  # the same batch
    batch_url = output[0].split(": ", 1)[1]
    with system.client(keys["submitter"]) as submitter:
        [accepted] = submitter.get(f"{batch_url}/results?outcome=accepted").json()["results"]
        wait_for_status(submitter, accepted["disclosure_id"], "screened")
