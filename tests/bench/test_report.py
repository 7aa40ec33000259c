"""The table and the PASS/FAIL lines, from figures made by hand."""

import json
from typing import Any

from tests.bench.report import as_json, chain_rate, render, targets, write_limit
from tests.bench.stats import Latency


def _figures(**changes: Any) -> dict[str, Any]:
    results: dict[str, Any] = {
        "meta": {"load_average_start": [0.2, 0, 0], "load_average_end": [1.5, 0, 0]},
        "errors": {},
        "raw": {
            "kafka": {
                "value_bytes": 2000,
                "batched_produce_per_s": 40_000.0,
                "batched_produce_mb_per_s": 80.0,
                "consume_per_s": 100_000.0,
                "acked_produce_ms": Latency(200, 0.5, 0.9, 1.2, 2.0),
                "concurrent_acked_produces_per_s": 25_000.0,
            },
            "mongodb": {
                "bulk_upsert_ops_per_s": 15_000.0,
                "insert_many_docs_per_s": 60_000.0,
                "transactions_per_s": 250.0,
                "write_concern": "majority, j=true",
            },
        },
        "idle": {"core_share": 0.03, "core_share_by_component": {"tansu": 0.02, "risk": 0.01}},
        "latency": {
            "20": {
                "to_findings_ms": Latency(240, 10, 20, 30, 40),
                "to_webhook_ms": Latency(60, 20, 30, 40, 50),
            },
            "100": {
                "to_findings_ms": Latency(1200, 20, 40, 60, 80),
                "to_webhook_ms": Latency(300, 30, 60, 90, 120),
                "largest_send_lag_ms": 25.0,
            },
        },
        "accept": {
            "accepted_per_s": 650.0,
            "accept_ms": Latency(5000, 80, 150, 200, 300),
            "chain_per_s": 600.0,
            "chain_complete": True,
        },
        "direct": {
            "events": 20_000,
            "screened": 20_000,
            "complete": True,
            "findings_per_s": 1_800.0,
            "webhooks_per_s": 1_700.0,
            "alerts_expected": 5_000,
            "webhooks_delivered": 5_000,
            "mongodb_writes_per_disclosure": 6.0,
            "cpu_ms_per_disclosure": 0.9,
        },
        "rss_peak_mb": {
            "api": 90.0,
            "risk": 120.0,
            "tansu": 900.0,
            "mongod": 400.0,
            "bench": 300.0,
        },
        "dead_letters": {"findings.v1.dlq": 0},
        "ledger": {
            "entries": 60_000,
            "intact": True,
            "verify_per_s": 120_000.0,
            "raw_read_per_s": 400_000.0,
        },
    }
    results.update(changes)
    return results


def _verdicts(results: dict[str, Any]) -> list[bool]:
    return [t.passed for t in targets(results)]


def test_the_chain_is_held_to_its_rate_and_to_its_share_of_the_write_limit() -> None:
    results = _figures()
    assert write_limit(results) == 2_500.0
    assert chain_rate(results) == 1_700.0  # the slower end: webhooks
    assert _verdicts(results) == [True, True, True, True, True, True, True]


def test_servers_are_not_held_to_the_service_memory_target() -> None:
    assert targets(_figures())[4].text.startswith("largest service RSS under load 120 MB (risk)")


def test_each_missed_target_fails_on_its_own() -> None:
    results = _figures(
        rss_peak_mb={"notify": 151.0},
        idle={"core_share": 0.28, "core_share_by_component": {}},
    )
    results["latency"]["100"]["to_webhook_ms"] = Latency(300, 30, 60, 101, 120)
    assert _verdicts(results) == [True, True, True, False, False, False, True]


def test_a_fast_walk_of_a_broken_chain_does_not_pass() -> None:
    results = _figures(ledger={"entries": 9, "intact": False, "verify_per_s": 500_000.0})
    assert _verdicts(results)[6] is False


def test_a_missing_figure_fails_its_target_and_says_so() -> None:
    results = _figures(
        direct=None, accept=None, latency={}, rss_peak_mb={}, idle=None, raw={}, ledger=None
    )
    results["errors"]["direct"] = "TimeoutError()"
    text = render(results)
    assert _verdicts(results) == [False] * 7
    assert "FAIL: whole chain straight to Kafka not measured" in text
    assert "note: direct: TimeoutError()" in text


def test_the_table_shows_each_figure_with_its_limit_and_ratio() -> None:
    text = render(_figures())
    line = next(row for row in text.splitlines() if row.startswith("api accepts single POSTs"))
    assert "650/s" in line
    assert "64 concurrent acked produces 25,000/s" in line
    assert line.endswith("| 0.026")
    assert "fell up to 25 ms behind its schedule" in text
    assert "load average 0.20 at the start, 1.50 at the end" in text


def test_the_json_holds_every_figure_and_the_verdicts() -> None:
    loaded = json.loads(as_json(_figures()))
    assert loaded["latency"]["100"]["to_webhook_ms"]["p99"] == 90
    assert [t["passed"] for t in loaded["targets"]] == [True] * 7
