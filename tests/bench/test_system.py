"""`make bench` in miniature: a real run on fresh servers measures every phase and reports it.

Checks that each figure was measured and the verdicts were printed, never what a figure is.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
ROOT = Path(__file__).parents[2]


@pytest.mark.timeout(240)
def test_a_small_run_measures_every_phase_and_prints_the_verdicts(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "tests.bench.system", "--scale", "0.03", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=220,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    results = json.loads(output.read_text())
    assert results["errors"] == {}
    assert results["templates"]["templates_screened"]
    assert results["templates"]["disclosure_dumped_as_the_api_does"]
    assert set(results["raw"]) == {"kafka", "mongodb"}
    assert results["idle"]["core_share"] is not None
    for rate in ("20", "100"):
        assert results["latency"][rate]["to_findings_ms"]["count"] > 0
    assert results["latency"]["100"]["to_webhook_ms"]["count"] > 0
    assert results["accept"]["accept_ms"]["count"] > 0
    assert results["direct"]["screened"] > 0
    assert results["direct"]["mongodb_writes_per_disclosure"] > 0
    assert set(results["rss_peak_mb"]) >= {
        "api", "screening", "risk", "notify", "ledger", "tansu", "mongod"
    }  # fmt: skip
    assert results["ledger"]["intact"]
    assert results["ledger"]["entries"] >= results["direct"]["screened"]
    assert len(results["targets"]) == 7
    verdicts = [line for line in run.stdout.splitlines() if line.startswith(("PASS:", "FAIL:"))]
    assert len(verdicts) == 7
    assert str(output) in run.stdout
