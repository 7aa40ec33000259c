"""``index.md``: the evidence pack's index and executive summary, for people.

Each claim names the ledger entry it stands on (``entry N``), which ``ledger.csv`` and
``events/`` let a reader check. Pure: no I/O.
"""

from collections.abc import Sequence
from typing import Any

from .evidence_pack import CAVEAT, ENTRY_HASH_RULE, Document

FILES: tuple[tuple[str, str], ...] = (
    ("index.md", "this index and the executive summary"),
    ("pack.json", "everything below in one JSON document, each item with its ledger entry"),
    ("disclosures.csv", "the entity's disclosures with submission metadata"),
    ("screenings.csv", "each screening: level, score, confidence, rule set and its hash"),
    ("findings.csv", "every finding's evidence: field, value, rule, explanation"),
    ("alerts.csv", "every revision of every alert"),
    ("cases.csv", "every change of every case, and dismissals"),
    ("chain.csv", "recruitment-chain links naming the entity"),
    ("ledger.csv", "every ledger entry cited, with its hashes"),
    ("events/", "each cited event's exact bytes, named by ledger entry"),
)


def _escape(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    if not rows:
        return ["None recorded.", ""]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_escape(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def index_markdown(pack: Document, counts: dict[str, int]) -> bytes:
    entity, ledger, summary = pack["entity"], pack["ledger"], pack["summary"]
    named = " — ".join(str(v) for v in (entity["name"], entity["country"]) if v)
    title = f"# Evidence pack: {entity['kind']} {entity['id']}" + (f" ({named})" if named else "")
    chain = (
        f"intact, {ledger['entries']} entries, head hash `{ledger['head_hash']}`"
        if ledger["intact"]
        else f"**BROKEN at entry {ledger['broken_at']}**: {ledger['reason']}; entries from "
        "there on are marked unproven"
    )
    lines = [
        title,
        "",
        f"Tenant `{pack['tenant_id']}`. Ledger: {chain}. "
        f"{len(ledger['checkpoints'])} signed daily checkpoint(s) of the head.",
        "",
        f"> {CAVEAT}",
        "",
        "## Index",
        "",
        *_table(
            ("#", "file", "what it holds", "rows"),
            [(n, f, what, counts.get(f, "")) for n, (f, what) in enumerate(FILES, 1)],
        ),
        "## Executive summary",
        "",
        *_summary(summary),
        "## How to check this pack against the ledger",
        "",
        f"1. For each row of `ledger.csv`: {ENTRY_HASH_RULE}.",
        "2. Each entry's previous_hash is the entry_hash of the entry before it; the chain's head"
        " hash is the one above, which `GET /v1/ledger` (an auditor's key) or"
        " `laboursight-ledger verify` reports, and which the signed checkpoints in `pack.json`"
        " hold.",
        "3. Every item of `pack.json` names its entry (`ledger.seq`); its `data` is that entry's "
        "event's `data`.",
        "",
    ]
    return "\n".join(lines).encode()


def _summary(summary: Document) -> list[str]:
    lines = [
        f"- Disclosures: {summary['disclosures']} (periods: "
        f"{', '.join(summary['periods']) or 'none'}); screenings: {summary['screenings']}.",
    ]
    latest = summary["latest_screening"]
    if latest is None:
        lines.append("- Not screened yet.")
    else:
        threshold = (
            "meets the ILO/EC indicator threshold for forced labour — verification needed"
            if latest["threshold_met"]
            else "does not meet the ILO/EC indicator threshold for forced labour"
        )
        lines += [
            f"- Latest screening (period ending {latest['period_end']}, disclosure "
            f"{latest['disclosure_id']}, entry {latest['ledger_seq']}): risk level "
            f"**{latest['risk_level']}**, score {latest['score']}, confidence "
            f"{latest['confidence']}; {threshold}.",
            f"- Rule set {latest['rule_set_version']} (`{latest['rule_set_hash']}`), reference "
            f"data edition {latest['reference_data_edition']}.",
        ]
    lines += [
        f"- Alerts: {len(summary['alerts'])}; cases: {len(summary['cases'])}; dismissals: "
        f"{summary['dismissals']}; recruitment-chain links: {len(summary['links'])}.",
    ]
    if summary["unreadable"]:
        lines.append(f"- {summary['unreadable']} entry(ies) name the entity but cannot be read.")
    lines.append("")
    if latest is not None:
        lines += ["### Indicators of the latest screening", ""]
        indicators = [(i["indicator"], i["strength"], i["severity"]) for i in latest["indicators"]]
        lines += _table(("indicator", "strength", "severity"), indicators)
    lines += ["### Alerts", ""]
    alerts = [
        (
            a["alert_id"],
            a["alert_type"],
            a["risk_level"],
            a["status"],
            a["summary"],
            a["ledger_seq"],
        )
        for a in summary["alerts"]
    ]
    lines += _table(("alert", "type", "level", "status", "summary", "entry"), alerts)
    lines += ["### Cases", ""]
    cases = [
        (c["case_id"], c["status"], c["severity"], c["owner"], c["due_at"], c["ledger_seq"])
        for c in summary["cases"]
    ]
    lines += _table(("case", "status", "severity", "owner", "due", "entry"), cases)
    lines += ["### Recruitment chain", ""]
    chain = [
        (k["recruiter_id"], k["supplier_id"], k["workers"], k["workforce_share"], k["stated_by"])
        for k in summary["links"]
    ]
    lines += _table(("recruiter", "supplier", "workers", "share", "stated by disclosure"), chain)
    return lines
