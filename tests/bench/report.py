"""The benchmark's one table, its PASS/FAIL lines against the issues' targets, and its JSON.

Pure: it reads the figures the phases measured and never measures anything itself. A figure
that was not measured (a phase failed or ran out of time) is shown as such, and a target whose
figure is missing is not met.
"""

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.bench.stats import Latency

CHAIN_TARGET_PER_S = 1_000
CHAIN_AIM_PER_S = 2_000
CHAIN_SHARE_OF_WRITE_LIMIT = 0.6
ACCEPT_TARGET_PER_S = 500
WEBHOOK_P99_TARGET_MS = 100
WEBHOOK_TARGET_RATE = "100"
RSS_TARGET_MB = 150
IDLE_TARGET_SHARE = 0.05
VERIFY_TARGET_PER_S = 100_000
SERVERS = ("tansu", "mongod")
LAG_NOTE_MS = 10
NOT_SERVICES = ("bench", *SERVERS)
# Acked produces on the way: api → disclosures, screening → findings, risk → alerts; and one
# risk transaction. The floor of a latency is these raw operations in series, no waiting.
PRODUCES_TO_FINDINGS, PRODUCES_TO_WEBHOOK = 2, 3


@dataclass(frozen=True)
class Row:
    figure: str
    system: str
    limit: str = ""
    ratio: float | None = None


@dataclass(frozen=True)
class Target:
    passed: bool
    text: str


def dig(results: Mapping[str, Any], *path: str) -> Any:
    """``results[a][b]…``, or None where any step is missing."""
    value: Any = results
    for step in path:
        if not isinstance(value, Mapping) or value.get(step) is None:
            return None
        value = value[step]
    return value


def _latency(value: Any) -> Latency | None:
    if isinstance(value, Latency):
        return value
    if isinstance(value, Mapping):
        return Latency(**value)
    return None


def _ratio(value: float | None, limit: float | None) -> float | None:
    return value / limit if value is not None and limit else None


def _rate(value: float | None) -> str:
    return "not measured" if value is None else f"{value:,.0f}/s"


def write_limit(results: Mapping[str, Any]) -> float | None:
    """Disclosures a second MongoDB could take: bulk upserts ÷ the chain's writes a disclosure."""
    bulk = dig(results, "raw", "mongodb", "bulk_upsert_ops_per_s")
    writes = dig(results, "direct", "mongodb_writes_per_disclosure")
    return bulk / writes if bulk and writes else None


def chain_rate(results: Mapping[str, Any]) -> float | None:
    """The whole chain: the slower of reaching findings and delivering every alert."""
    findings = dig(results, "direct", "findings_per_s")
    webhooks = dig(results, "direct", "webhooks_per_s")
    return min(findings, webhooks) if findings is not None and webhooks is not None else None


def _floor_ms(results: Mapping[str, Any], produces: int) -> float | None:
    produce = _latency(dig(results, "raw", "kafka", "acked_produce_ms"))
    transactions: float | None = dig(results, "raw", "mongodb", "transactions_per_s")
    if produce is None or not transactions:
        return None
    return produces * produce.p50 + 1000 / transactions


def rows(results: Mapping[str, Any]) -> list[Row]:
    limit = write_limit(results)
    bulk = dig(results, "raw", "mongodb", "bulk_upsert_ops_per_s")
    writes = dig(results, "direct", "mongodb_writes_per_disclosure")
    short = f"MongoDB write limit {limit:,.0f}/s" if limit else "MongoDB write limit not measured"
    limit_text = f"{short} ({bulk:,.0f} upserts/s ÷ {writes:.1f} writes each)" if limit else short
    direct = dig(results, "direct") or {}
    made = [
        Row(
            f"chain straight to Kafka, to findings ({direct.get('screened', 0):,}"
            f" of {direct.get('events', 0):,})",
            _rate(direct.get("findings_per_s")),
            limit_text,
            _ratio(direct.get("findings_per_s"), limit),
        ),
        Row(
            f"chain straight to Kafka, to signed webhooks ({direct.get('webhooks_delivered', 0):,}"
            f" of {direct.get('alerts_expected', 0):,} alerts)",
            _rate(direct.get("webhooks_per_s")),
            short,
            _ratio(direct.get("webhooks_per_s"), limit),
        ),
        Row(
            "chain through HTTP, 64 clients, to findings",
            _rate(dig(results, "accept", "chain_per_s")),
            short,
            _ratio(dig(results, "accept", "chain_per_s"), limit),
        ),
        Row(
            "chain through batch ingest, to findings",
            _rate(dig(results, "ingest", "chain_per_s")),
            short,
            _ratio(dig(results, "ingest", "chain_per_s"), limit),
        ),
    ]
    accepted = dig(results, "accept", "accepted_per_s")
    concurrent = dig(results, "raw", "kafka", "concurrent_acked_produces_per_s")
    accept_ms = _latency(dig(results, "accept", "accept_ms"))
    made.append(
        Row(
            "api accepts single POSTs, 64 clients",
            _rate(accepted) + (f", {accept_ms.text()}" if accept_ms else ""),
            f"64 concurrent acked produces {_rate(concurrent)}",
            _ratio(accepted, concurrent),
        )
    )
    lines = dig(results, "ingest", "accepted_per_s")
    line_cpu = dig(results, "ingest", "api_cpu_ms_per_line")
    made.append(
        Row(
            "api accepts batch uploads, lines",
            _rate(lines) + ("" if line_cpu is None else f", api CPU {line_cpu:,.3f} ms a line"),
            f"MongoDB insert_many {_rate(dig(results, 'raw', 'mongodb', 'insert_many_docs_per_s'))}",
            _ratio(lines, dig(results, "raw", "mongodb", "insert_many_docs_per_s")),
        )
    )
    for rate in sorted(dig(results, "latency") or {}, key=float):
        for key, label, produces in (
            ("to_findings_ms", "findings", PRODUCES_TO_FINDINGS),
            ("to_webhook_ms", "signed webhook", PRODUCES_TO_WEBHOOK),
        ):
            measured = _latency(dig(results, "latency", rate, key))
            floor = _floor_ms(results, produces)
            made.append(
                Row(
                    f"submit → {label} at {rate}/s offered",
                    measured.text() if measured else "not measured",
                    f"p50 vs floor {floor:,.1f} ms ({produces} acked produces + 1 transaction)"
                    if floor
                    else "",
                    _ratio(measured.p50 if measured else None, floor),
                )
            )
    walked = dig(results, "ledger") or {}
    made.append(
        Row(
            f"ledger verify, the direct tenant's chain ({walked.get('entries', 0):,} entries,"
            f" {'intact' if walked.get('intact') else 'NOT intact'})",
            _rate(walked.get("verify_per_s")),
            f"plain read of the same entries {_rate(walked.get('raw_read_per_s'))}",
            _ratio(walked.get("verify_per_s"), walked.get("raw_read_per_s")),
        )
    )
    cpu = dig(results, "direct", "cpu_ms_per_disclosure")
    made.append(
        Row(
            "CPU per disclosure, all processes",
            "not measured" if cpu is None else f"{cpu:,.2f} ms",
        )
    )
    made.append(
        Row(
            "MongoDB writes per disclosure",
            "not measured" if writes is None else f"{writes:,.2f}",
        )
    )
    by_process = dig(results, "direct", "cpu_ms_per_disclosure_by_component") or {}
    made.append(
        Row(
            "  CPU per disclosure, by process",
            ", ".join(f"{k} {v:.2f}" for k, v in sorted(by_process.items(), key=lambda kv: -kv[1]))
            or "not measured",
        )
    )
    made.extend(_collection_rows(dig(results, "direct", "mongodb_by_collection_per_disclosure")))
    idle = dig(results, "idle", "core_share")
    parts = dig(results, "idle", "core_share_by_component") or {}
    made.append(
        Row(
            "idle stack, share of one core",
            "not measured"
            if idle is None
            else f"{idle:.1%} ("
            + ", ".join(f"{k} {v:.1%}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1])[:3])
            + ", …)",
        )
    )
    peaks = dig(results, "rss_peak_mb") or {}
    services = {k: v for k, v in peaks.items() if k not in NOT_SERVICES}
    made.append(
        Row(
            "RSS under load, per service",
            ", ".join(f"{k} {v:,.0f} MB" for k, v in services.items()) or "not measured",
            ", ".join(f"{k} {peaks[k]:,.0f} MB" for k in SERVERS if k in peaks),
        )
    )
    made.extend(_raw_rows(results))
    return made


def _collection_rows(by_collection: Mapping[str, Mapping[str, float]] | None) -> list[Row]:
    """Where mongod's time goes: per collection, its operations and time per disclosure."""
    ranked = sorted((by_collection or {}).items(), key=lambda kv: -kv[1]["time_us"])
    return [
        Row(
            f"  mongod per disclosure: {name}",
            f"{figures['time_us']:,.0f} µs; "
            + ", ".join(
                f"{kind} {figures[kind]:.2f}"
                for kind in ("insert", "update", "remove", "queries", "getmore", "commands")
                if figures.get(kind)
            ),
        )
        for name, figures in ranked
    ]


def _raw_rows(results: Mapping[str, Any]) -> list[Row]:
    kafka = dig(results, "raw", "kafka") or {}
    mongo = dig(results, "raw", "mongodb") or {}
    produce = _latency(kafka.get("acked_produce_ms"))

    def raw(figure: str, text: str | None) -> Row:
        return Row(f"raw: {figure}", "", text or "not measured")

    return [
        raw(
            f"tansu batched produce ({kafka.get('value_bytes', 0):,} B)",
            f"{kafka['batched_produce_per_s']:,.0f} msgs/s"
            f" ({kafka['batched_produce_mb_per_s']:,.0f} MB/s)"
            if kafka
            else None,
        ),
        raw("tansu consume (getmany)", f"{kafka['consume_per_s']:,.0f} msgs/s" if kafka else None),
        raw("one acked produce", produce.text() if produce else None),
        raw(
            "64 concurrent acked produces",
            f"{kafka['concurrent_acked_produces_per_s']:,.0f}/s" if kafka else None,
        ),
        raw(
            f"MongoDB bulk_write of 1,000 upserts ({mongo.get('write_concern', '')})",
            f"{mongo['bulk_upsert_ops_per_s']:,.0f} ops/s" if mongo else None,
        ),
        raw(
            "MongoDB insert_many of 1,000",
            f"{mongo['insert_many_docs_per_s']:,.0f} docs/s" if mongo else None,
        ),
        raw(
            "MongoDB 5-write transactions in series",
            f"{mongo['transactions_per_s']:,.0f}/s" if mongo else None,
        ),
    ]


def targets(results: Mapping[str, Any]) -> list[Target]:
    chain, limit = chain_rate(results), write_limit(results)
    share = _ratio(chain, limit)
    accepted = dig(results, "accept", "accepted_per_s")
    webhook = _latency(dig(results, "latency", WEBHOOK_TARGET_RATE, "to_webhook_ms"))
    peaks = dig(results, "rss_peak_mb") or {}
    services = {k: v for k, v in peaks.items() if k not in NOT_SERVICES}
    idle = dig(results, "idle", "core_share")
    verify = dig(results, "ledger", "verify_per_s")
    return [
        Target(
            chain is not None and chain >= CHAIN_TARGET_PER_S,
            f"whole chain straight to Kafka {_rate(chain)} (target ≥ {CHAIN_TARGET_PER_S:,}/s,"
            f" aiming at {CHAIN_AIM_PER_S:,}/s)",
        ),
        Target(
            share is not None and share >= CHAIN_SHARE_OF_WRITE_LIMIT,
            "whole chain at "
            + ("an unmeasured share" if share is None else f"{share:.2f}")
            + f" of the chain's MongoDB write limit (target ≥ {CHAIN_SHARE_OF_WRITE_LIMIT})",
        ),
        Target(
            accepted is not None and accepted >= ACCEPT_TARGET_PER_S,
            f"single-POST accept {_rate(accepted)} at 64 clients"
            f" (target ≥ {ACCEPT_TARGET_PER_S}/s)",
        ),
        Target(
            webhook is not None and webhook.p99 <= WEBHOOK_P99_TARGET_MS,
            "p99 submit → signed webhook "
            + ("not measured" if webhook is None else f"{webhook.p99:,.1f} ms")
            + f" at {WEBHOOK_TARGET_RATE}/s offered (target ≤ {WEBHOOK_P99_TARGET_MS} ms)",
        ),
        Target(
            bool(services) and max(services.values()) <= RSS_TARGET_MB,
            "largest service RSS under load "
            + (
                f"{max(services.values()):,.0f} MB ({max(services, key=lambda k: services[k])})"
                if services
                else "not measured"
            )
            + f" (target ≤ {RSS_TARGET_MB} MB each)",
        ),
        Target(
            idle is not None and idle <= IDLE_TARGET_SHARE,
            "idle stack "
            + ("not measured" if idle is None else f"{idle:.1%}")
            + f" of a core (target ≤ {IDLE_TARGET_SHARE:.0%})",
        ),
        Target(
            verify is not None
            and verify >= VERIFY_TARGET_PER_S
            and bool(dig(results, "ledger", "intact")),
            f"ledger verify {_rate(verify)} on an intact chain"
            f" (target ≥ {VERIFY_TARGET_PER_S:,} entries/s; issue 10)",
        ),
    ]


def notes(results: Mapping[str, Any]) -> list[str]:
    said = []
    meta = dig(results, "meta") or {}
    start, end = meta.get("load_average_start"), meta.get("load_average_end")
    if start and end:
        said.append(
            f"load average {start[0]:.2f} at the start, {end[0]:.2f} at the end; figures compare"
            " only within one run, and not at all when other work shared the machine"
        )
    letters = dig(results, "dead_letters") or {}
    if any(letters.values()):
        said.append(
            "dead-lettered in this run: " + ", ".join(f"{k} {v:,}" for k, v in letters.items() if v)
        )
    duplicates = sum(
        (dig(results, *path) or 0)
        for path in [("direct", "webhook_duplicates")]
        + [("latency", r, "webhook_duplicates") for r in dig(results, "latency") or {}]
    )
    if duplicates:
        said.append(f"{duplicates:,} webhook(s) delivered more than once (same webhook-id)")
    if dig(results, "webhooks_rejected"):
        said.append(f"{results['webhooks_rejected']:,} webhook(s) failed signature verification")
    for rate, figures in (dig(results, "latency") or {}).items():
        lag = dig(figures, "largest_send_lag_ms")
        if lag is not None and lag > LAG_NOTE_MS:
            said.append(
                f"at {rate}/s the load generator fell up to {lag:,.0f} ms behind its schedule"
                " (latencies still count from the scheduled time)"
            )
    phases = [("idle", dig(results, "idle"))]
    phases += [(f"{r}/s", f) for r, f in (dig(results, "latency") or {}).items()]
    phases += [("64-client", dig(results, "accept")), ("direct", dig(results, "direct"))]
    for phase, figures in phases:
        if dig(figures or {}, "backlog_at_start"):
            said.append(
                f"{figures['backlog_at_start']:,} earlier disclosures were still in the chain"
                f" when the {phase} phase began"
            )
    if dig(results, "direct") and not dig(results, "direct", "complete"):
        said.append("the direct phase hit its deadline: its rate is what finished in that time")
    if dig(results, "accept") and not dig(results, "accept", "chain_complete"):
        said.append("the chain behind the 64 clients did not drain before its deadline")
    if dig(results, "templates") and not dig(
        results, "templates", "disclosure_dumped_as_the_api_does"
    ):
        said.append("the events produced straight to Kafka dump the disclosure unlike the api")
    for phase, error in (dig(results, "errors") or {}).items():
        said.append(f"{phase}: {error}")
    return said


def _ratio_text(ratio: float) -> str:
    if ratio >= 10:
        return f"{ratio:,.0f}"
    return f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.3f}"


def render(results: Mapping[str, Any]) -> str:
    made = rows(results)
    widths = [
        max(len(r.figure) for r in made),
        max(len(r.system) for r in made),
        max(len(r.limit) for r in made),
    ]
    header = ("figure", "system", "raw limit, same run", "ratio")
    lines = [
        f"{header[0]:<{widths[0]}} | {header[1]:<{widths[1]}} | {header[2]:<{widths[2]}} | ratio",
        "-+-".join("-" * w for w in widths) + "-+------",
    ]
    for r in made:
        ratio = "" if r.ratio is None else _ratio_text(r.ratio)
        lines.append(
            f"{r.figure:<{widths[0]}} | {r.system:<{widths[1]}} | {r.limit:<{widths[2]}} | {ratio}"
        )
    lines.append("")
    lines += [f"{'PASS' if t.passed else 'FAIL'}: {t.text}" for t in targets(results)]
    lines += [f"note: {n}" for n in notes(results)]
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def as_json(results: Mapping[str, Any]) -> str:
    return json.dumps(
        {**results, "targets": [dataclasses.asdict(t) for t in targets(results)]},
        default=_plain,
        indent=2,
    )
