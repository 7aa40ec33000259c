"""``laboursight-api upload`` against a scripted api: retries, progress, rejected lines, exit code.

The real command against the running system is in tests/e2e/test_batch_ingest.py.
"""

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from laboursight_api import uploader
from laboursight_api.uploader import Answer, Progress, UploadFailed


def _batch(accepted: int, rejected: int, total: int = 3) -> dict[str, Any]:
    pending = total - accepted - rejected
    return {
        "batch_id": "b1",
        "status": "done" if pending == 0 else "processing",
        "status_url": "/v1/disclosure-batches/b1",
        "results_url": "/v1/disclosure-batches/b1/results",
        "lines": {"total": total, "accepted": accepted, "rejected": rejected, "pending": pending},
    }


class ScriptedApi:
    """Answers each request with the next scripted answer, and keeps what it was sent."""

    def __init__(self, answers: list[Answer | Exception]) -> None:
        self._answers: Iterator[Answer | Exception] = iter(answers)
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def __call__(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> Answer:
        self.requests.append((method, path, headers))
        answer = next(self._answers)
        if isinstance(answer, Exception):
            raise answer
        return answer


def _ok(status: int, body: dict[str, Any], **headers: str) -> Answer:
    return Answer(status, body, headers)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_an_upload_is_retried_followed_and_its_rejected_lines_listed(tmp_path: Path) -> None:
    file = tmp_path / "disclosures.jsonl"
    file.write_bytes(b'{"kind": "supplier"}\n')
    rejected = {
        "line": 2,
        "outcome": "rejected",
        "errors": [{"field": "$.working_time.avg_weekly_hours", "message": "too low"}],
    }
    api = ScriptedApi(
        [
            UploadFailed("connection reset"),
            _ok(503, {"detail": "busy"}, **{"Retry-After": "0"}),
            _ok(202, _batch(0, 0)),
            _ok(200, _batch(1, 0)),
            _ok(200, _batch(1, 0)),
            _ok(200, _batch(2, 1)),
            _ok(200, {"results": [rejected], "next": None}),
        ]
    )
    out = io.StringIO()

    status = uploader.upload(
        api, file, uploader.media_type(file, None), "k1", 0.0, out, sleep=lambda _: None
    )

    assert status == 1
    posts = [r for r in api.requests if r[0] == "POST"]
    assert len(posts) == 3
    assert all(h["Idempotency-Key"] == '"k1"' for _, _, h in posts)
    assert posts[0][2]["Content-Type"] == "application/x-ndjson"
    assert out.getvalue().splitlines()[1:] == [
        f"[{'.' * 30}]   0% 0/3 lines: 0 accepted, 0 rejected, 3 pending",
        f"[{'#' * 10}{'.' * 20}]  33% 1/3 lines: 1 accepted, 0 rejected, 2 pending",
        f"[{'#' * 30}] 100% 3/3 lines: 2 accepted, 1 rejected, 0 pending",
        "line 2: $.working_time.avg_weekly_hours: too low",
    ]
    assert api.requests[-1][1] == "/v1/disclosure-batches/b1/results?outcome=rejected&limit=1000"


def test_every_line_accepted_exits_0_and_a_terminal_gets_one_redrawn_bar(tmp_path: Path) -> None:
    file = tmp_path / "sheet.CSV"
    file.write_bytes(b"kind\nsupplier\n")
    api = ScriptedApi(
        [_ok(202, _batch(1, 0)), _ok(200, _batch(3, 0)), _ok(200, {"results": [], "next": None})]
    )
    out = Tty()

    media = uploader.media_type(file, None)
    assert uploader.upload(api, file, media, None, 0.0, out, sleep=lambda _: None) == 0
    assert "Idempotency-Key" not in api.requests[0][2]
    assert api.requests[0][2]["Content-Type"] == "text/csv"
    drawn = out.getvalue().split("\n", 1)[1]
    assert drawn.count("\r") == 2
    assert drawn.endswith("3/3 lines: 3 accepted, 0 rejected, 0 pending\n")


def test_a_refused_upload_fails_with_the_problem() -> None:
    problem = {
        "detail": "the request has invalid fields",
        "errors": [{"field": "$", "message": "the upload holds no disclosure"}],
    }
    api = ScriptedApi([_ok(422, problem)])
    with pytest.raises(UploadFailed, match=r"422: .*invalid fields \(\$: the upload holds no"):
        uploader.submit(api, b"\n", "application/x-ndjson", None, sleep=lambda _: None)


def test_an_unreachable_api_is_named() -> None:
    send = uploader.http("http://127.0.0.1:9", "ls_key", 1.0)
    with pytest.raises(UploadFailed, match=r"cannot reach the api at http://127.0.0.1:9"):
        send("GET", "/v1/disclosure-batches/x", None, {})


def test_progress_on_a_pipe_is_one_line_per_update() -> None:
    out = io.StringIO()
    show = Progress(out)
    show(_batch(0, 0, total=0) | {"status": "done"})
    assert out.getvalue() == f"[{'.' * 30}]   0% 0/0 lines: 0 accepted, 0 rejected, 0 pending\n"
