"""A replay report as files: ``report.md`` for people; ``report.json`` (everything) and one CSV
per table (``disclosures.csv``, ``findings.csv``, ``entities.csv``, ``alerts.csv``,
``failures.csv``) for tools.

Byte-identical for the same report: sorted keys, ``\\n`` line ends, no time of writing. CSV
cells holding a disclosure's values are JSON (``48``, ``"employer"``, ``true``, ``null``), so
a tool reads back the type the disclosure had.
"""

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final

View = dict[str, Any]

MARKDOWN_ROWS: Final = 200
"""Rows a Markdown table shows; the CSV beside it holds them all."""

FILES: Final = (
    "report.md",
    "report.json",
    "disclosures.csv",
    "findings.csv",
    "entities.csv",
    "alerts.csv",
    "failures.csv",
)


def write_report(report: View, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    contents = {
        "report.md": markdown(report),
        "report.json": json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        "disclosures.csv": _csv(DISCLOSURE_COLUMNS, disclosure_rows(report)),
        "findings.csv": _csv(FINDING_COLUMNS, finding_rows(report)),
        "entities.csv": _csv(ENTITY_COLUMNS, entity_rows(report)),
        "alerts.csv": _csv(ALERT_COLUMNS, alert_rows(report)),
        "failures.csv": _csv(FAILURE_COLUMNS, failure_rows(report)),
    }
    written = []
    for name in FILES:
        path = folder / name
        path.write_text(contents[name], encoding="utf-8", newline="")
        written.append(path)
    return written


def _csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _get(view: View | None, *path: str) -> Any:
    for key in path:
        if view is None:
            return None
        view = view.get(key)
    return view


# --- tables ------------------------------------------------------------------------------

DISCLOSURE_COLUMNS: Final = (
    "disclosure_id",
    "entity_kind",
    "entity_id",
    "recorded",
    "recorded_rule_set_version",
    "replay_rule_set_version",
    "recorded_risk_level",
    "replay_risk_level",
    "recorded_score",
    "replay_score",
    "recorded_forced_labour_likely",
    "replay_forced_labour_likely",
    "findings_added",
    "findings_removed",
    "findings_changed",
)


def disclosure_rows(report: View) -> list[list[str]]:
    rows = []
    for d in report["disclosures"]:
        old, new = d["recorded"], d["replay"]
        counts = [
            sum(f["difference"] == k for f in d["findings"])
            for k in ("added", "removed", "changed")
        ]
        rows.append(
            [
                d["disclosure_id"],
                d["entity_kind"],
                d["entity_id"],
                _cell(old is not None),
                _cell(_get(old, "rule_set_version")),
                _cell(new["rule_set_version"]),
                _cell(_get(old, "judgement", "risk_level")),
                _cell(new["judgement"]["risk_level"]),
                _cell(_get(old, "judgement", "score")),
                _cell(new["judgement"]["score"]),
                _cell(_get(old, "judgement", "forced_labour_likely")),
                _cell(new["judgement"]["forced_labour_likely"]),
                *map(str, counts),
            ]
        )
    return rows


FINDING_COLUMNS: Final = (
    "disclosure_id",
    "entity_kind",
    "entity_id",
    "indicator",
    "difference",
    "rule_id",
    "field",
    "recorded_value",
    "replay_value",
    "recorded_strength",
    "replay_strength",
    "recorded_severity",
    "replay_severity",
    "recorded_explanation",
    "replay_explanation",
)


def finding_rows(report: View) -> list[list[str]]:
    rows = []
    for d in report["disclosures"]:
        for f in d["findings"]:
            for e in f["evidence"]:
                rows.append(
                    [
                        d["disclosure_id"],
                        d["entity_kind"],
                        d["entity_id"],
                        f["indicator"],
                        f["difference"],
                        _cell(e["rule_id"]),
                        _cell(e["field"]),
                        "" if e["recorded"] is None else _json(e["recorded"]["value"]),
                        "" if e["replay"] is None else _json(e["replay"]["value"]),
                        _cell(_get(f["recorded"], "strength")),
                        _cell(_get(f["replay"], "strength")),
                        _cell(_get(f["recorded"], "severity")),
                        _cell(_get(f["replay"], "severity")),
                        _cell(_get(e["recorded"], "explanation")),
                        _cell(_get(e["replay"], "explanation")),
                    ]
                )
    return rows


ENTITY_COLUMNS: Final = (
    "entity_kind",
    "entity_id",
    "recorded_risk_level",
    "replay_risk_level",
    "recorded_score",
    "replay_score",
    "recorded_disclosure_id",
    "replay_disclosure_id",
    "recorded_inherited_from",
    "replay_inherited_from",
)


def entity_rows(report: View) -> list[list[str]]:
    return [
        [
            e["entity_kind"],
            e["entity_id"],
            _cell(e["recorded"]["risk_level"]),
            _cell(e["replay"]["risk_level"]),
            _cell(e["recorded"]["score"]),
            _cell(e["replay"]["score"]),
            _cell(e["recorded"]["disclosure_id"]),
            _cell(e["replay"]["disclosure_id"]),
            ";".join(e["recorded"]["inherited_from"]),
            ";".join(e["replay"]["inherited_from"]),
        ]
        for e in report["entities"]
    ]


ALERT_COLUMNS: Final = (
    "alert_id",
    "dedupe_key",
    "alert_type",
    "entity_kind",
    "entity_id",
    "verdict",
    "side",
    "change",
    "disclosure_id",
    "risk_level",
    "score",
    "indicators",
    "reasons",
)


def reason_text(reason: View) -> str:
    """``indicator (strength) rule_id [fields] in disclosure`` and ``via recruiter`` if any."""
    text = (
        f"{reason['indicator']} ({reason['strength']}) {reason['rule_id']} "
        f"[{', '.join(reason['fields'])}] in {reason['disclosure_id']}"
    )
    return text if reason["recruiter_id"] is None else f"{text} via {reason['recruiter_id']}"


def alert_rows(report: View) -> list[list[str]]:
    rows = []
    for a in report["alerts"]:
        for side in ("recorded", "replay"):
            for r in a[side]:
                rows.append(
                    [
                        a["alert_id"],
                        a["dedupe_key"],
                        a["alert_type"],
                        a["entity_kind"],
                        a["entity_id"],
                        a["verdict"],
                        side,
                        r["change"],
                        r["disclosure_id"],
                        r["risk_level"],
                        str(r["score"]),
                        ";".join(r["indicators"]),
                        "; ".join(reason_text(x) for x in r["reasons"]),
                    ]
                )
    return rows


FAILURE_COLUMNS: Final = ("stage", "where", "event_id", "disclosure_id", "reason")


def failure_rows(report: View) -> list[list[str]]:
    return [[_cell(f[c]) for c in FAILURE_COLUMNS] for f in report["failures"]]


# --- Markdown ----------------------------------------------------------------------------


def _md(value: Any) -> str:
    return _cell(value).replace("|", "\\|").replace("\n", " ")


def _table(columns: Sequence[str], rows: Sequence[Sequence[Any]], csv_name: str) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows[:MARKDOWN_ROWS]]
    if len(rows) > MARKDOWN_ROWS:
        lines.append("")
        lines.append(f"… and {len(rows) - MARKDOWN_ROWS:,} more rows in `{csv_name}`.")
    return lines


def _period(p: View) -> str:
    parts = []
    if p["since"] or p["until"]:
        parts.append(
            f"event time from {p['since'] or 'the first'} to before {p['until'] or 'the last'}"
        )
    if p["offsets"]:
        parts.append("offsets " + ", ".join(p["offsets"]))
    return "; ".join(parts) or "every disclosure of the tenant"


def _read_from(p: View) -> str:
    read = p["read_from"] or {}
    if "ledger" in read:
        ledger = read["ledger"]
        if ledger["first_seq"] is None:
            return "the ledger (no entry in the period)"
        return (
            f"the ledger, entries {ledger['first_seq']} to {ledger['last_seq']} "
            f"(entry {ledger['last_seq']}: `{ledger['last_entry_hash']}`)"
        )
    ranges = [
        f"{r['topic']}:{r['partition']}:{r['first']}-{r['last']}" for r in read.get("kafka", [])
    ]
    return "the Kafka topics, " + (", ".join(ranges) or "no record")


def markdown(report: View) -> str:
    p, s = report["parameters"], report["summary"]
    screened, folded = p["screened"] or {}, p["folded"] or {}
    under = "; ".join(
        f"{u['rule_set_version']} (`{u['rule_set_hash']}`), edition {u['reference_data_edition']}: "
        f"{u['disclosures']}"
        for u in report["recorded_under"]
    )
    lines = [
        f"# Replay report: tenant {p['tenant_id']}",
        "",
        "| | |",
        "|---|---|",
        f"| period | {_md(_period(p))} |",
        f"| read from | {_md(_read_from(p))} |",
        f"| replayed with | rule set {p['rule_set_version']} (`{p['rule_set_hash']}`), "
        f"reference edition {p['reference_data_edition']} |",
        f"| recorded under | {_md(under or 'nothing recorded')} |",
        f"| disclosures replayed | {s['disclosures']} of {screened.get('read', 0)} events read "
        f"({_skipped(screened)}) |",
        f"| state before the period | {folded.get('before_period', 0)} recorded findings events, "
        f"{folded.get('case_events', 0)} case events |",
        "",
    ]
    if s["differences"] == 0:
        lines += [
            f"**No differences.** The {s['disclosures']} disclosures replayed give the recorded "
            "findings, entity levels and alerts.",
        ]
    else:
        lines += [
            f"**{s['differences']} differences**: {s['disclosures_differing']} disclosures "
            f"({s['findings_added']} findings added, {s['findings_removed']} removed, "
            f"{s['findings_changed']} changed; {s['judgements_changed']} judgements changed), "
            f"{s['entities_changed']} entity levels, {s['alerts_appearing']} alerts appearing, "
            f"{s['alerts_disappearing']} disappearing, {s['alerts_changing']} changing, "
            f"{s['failures']} failures.",
        ]
    lines += ["", *_reproduced(report)]
    if report["disclosures"]:
        lines += [
            "",
            "## Disclosures",
            "",
            *_table(DISCLOSURE_COLUMNS, disclosure_rows(report), "disclosures.csv"),
        ]
        lines += [
            "",
            "## Findings",
            "",
            *_table(FINDING_COLUMNS[:9], [r[:9] for r in finding_rows(report)], "findings.csv"),
        ]
    if report["entities"]:
        lines += [
            "",
            "## Entities whose level would change",
            "",
            *_table(ENTITY_COLUMNS, entity_rows(report), "entities.csv"),
        ]
    if report["alerts"]:
        lines += [
            "",
            "## Alerts that would appear, disappear or change",
            "",
            *_table(ALERT_COLUMNS[1:], [r[1:] for r in alert_rows(report)], "alerts.csv"),
        ]
    if report["failures"]:
        lines += [
            "",
            "## Failures",
            "",
            *_table(FAILURE_COLUMNS, failure_rows(report), "failures.csv"),
        ]
    return "\n".join(lines) + "\n"


def _skipped(screened: View) -> str:
    counts = (
        (screened.get("outside_period", 0), "outside the period"),
        (screened.get("other_tenants", 0), "of other tenants"),
        (screened.get("duplicates", 0), "repeated"),
        (screened.get("failures", 0), "failed"),
    )
    return ", ".join(f"{n} {what}" for n, what in counts if n) or "every one in the period"


def _reproduced(report: View) -> list[str]:
    reproduced = report["reproduced"]
    differing = reproduced["alerts_differing"]
    if not differing:
        return [
            f"The recorded findings, folded again, give the {reproduced['alerts']} recorded "
            "alerts of the period: the record is reproducible."
        ]
    keys = ", ".join(f"`{a['dedupe_key']}` ({a['verdict']})" for a in differing[:20])
    return [
        f"**The record is not reproduced for {len(differing)} alerts**: the recorded findings, "
        f"folded again, do not give these recorded alerts: {keys}. Differences of the replay "
        "on them may not be the rule set's."
    ]
