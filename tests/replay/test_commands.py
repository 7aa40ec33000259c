"""``laboursight-replay run`` takes every option of the screening replay it runs, so an auditor
never needs the two commands beneath it."""

import re
import subprocess

from tests.replay.system import BIN


def _options(*command: str) -> set[str]:
    done = subprocess.run(
        [str(BIN / command[0]), *command[1:], "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(re.findall(r"(--[a-z][a-z-]+)", done.stdout))


def test_run_takes_the_screening_replays_options_and_where_to_write_the_report() -> None:
    screening = _options("laboursight-screening-replay")
    run = _options("laboursight-replay", "run")

    assert run == screening | {"--out"}
    assert _options("laboursight-risk-replay") == {"--help", "--replay-id"}
