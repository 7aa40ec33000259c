"""An entity's evidence pack as one JSON document (``pack.json``) and its executive summary.

Every item is an event the ledger holds, with its ledger entry (``ledger``); the summary is
computed from those items only, so each of its claims traces back to an entry. Wording flags,
never accuses: a disclosure is the submitter's own statement, and findings are indicators that
call for verification. Pure: no I/O.
"""

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any, Final

from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.envelope import ALERT_RAISED
from laboursight_schemas.ledger import FORMAT, Checkpoint

from .evidence_items import SECTIONS, Gathered, Item, Section

PACK_FORMAT: Final = "laboursight-evidence-pack/1"
CAVEAT: Final = (
    "Disclosures are their submitters' own statements. Findings are ILO indicators that these "
    "statements show; they flag what needs verification and establish nothing by themselves."
)
ENTRY_HASH_RULE: Final = (
    f"entry_hash = SHA-256 of the UTF-8 lines {FORMAT!r}, tenant id, seq, event_id, topic, "
    "partition, offset, event_sha256, previous_hash, each ended by a newline; event_sha256 = "
    "SHA-256 of the event's bytes (events/<seq>.json)"
)
Document = dict[str, Any]


def item_document(item: Item) -> Document:
    return {
        "event_id": item.proof.event_id,
        "type": item.event_type,
        "time": item.time,
        "data": item.data,
        "ledger": asdict(item.proof),
    }


def section(gathered: Gathered, name: Section) -> list[Item]:
    return [i for i in gathered.items if i.section == name]


def pack_document(
    gathered: Gathered, kind: EntityKind, checkpoints: Iterable[Checkpoint] = ()
) -> Document:
    """The whole pack, sections in ledger order."""
    verdict = gathered.verdict
    held = sorted(
        (c for c in checkpoints if c.tenant_id == gathered.tenant_id), key=lambda c: c.seq
    )
    return {
        "format": PACK_FORMAT,
        "tenant_id": gathered.tenant_id,
        "entity": {"kind": kind, "id": gathered.entity_id, **_identity(gathered)},
        "caveat": CAVEAT,
        "ledger": {
            "intact": verdict.intact,
            "entries": verdict.entries,
            "head_hash": verdict.head_hash,
            "broken_at": verdict.broken_at,
            "reason": verdict.reason,
            "entry_hash_rule": ENTRY_HASH_RULE,
            "checkpoints": [
                {
                    "day": c.day.isoformat(),
                    "seq": c.seq,
                    "entry_hash": c.entry_hash,
                    "signature": c.signature,
                    "public_key": c.public_key,
                }
                for c in held
            ],
        },
        "summary": summary(gathered),
        **{name: [item_document(i) for i in section(gathered, name)] for name in SECTIONS},
        "unreadable": [
            {"ledger": asdict(u.proof), "reason": u.reason} for u in gathered.unreadable
        ],
    }


def _identity(gathered: Gathered) -> Document:
    """Name and country as the entity's latest screening gave them."""
    name = country = None
    for item in section(gathered, "screenings"):
        name = item.data.get("entity_name") or name
        country = item.data.get("entity_country") or country
    return {"name": name, "country": country}


def summary(gathered: Gathered) -> Document:
    screenings = section(gathered, "screenings")
    latest = max(screenings, key=lambda i: (i.data["period"]["end"], i.proof.seq), default=None)
    return {
        "disclosures": len(section(gathered, "disclosures")),
        "periods": sorted({_period(i) for i in section(gathered, "disclosures")}),
        "screenings": len(screenings),
        "latest_screening": None if latest is None else _screening(latest),
        "alerts": [_latest(h) for h in _histories(section(gathered, "alerts"), "alert_id")],
        "cases": [_case(h) for h in _histories(section(gathered, "cases"), "case_id")],
        "dismissals": len(section(gathered, "dismissals")),
        "links": _links(gathered),
        "unreadable": len(gathered.unreadable),
    }


def _period(item: Item) -> str:
    period = item.data["disclosure"]["period"]
    return f"{period['start']}/{period['end']}"


def _screening(item: Item) -> Document:
    data, judgement = item.data, item.data["judgement"]
    return {
        "disclosure_id": data["disclosure_id"],
        "period_end": data["period"]["end"],
        "risk_level": judgement["risk_level"],
        "score": judgement["score"],
        "confidence": judgement["confidence"],
        "threshold_met": judgement["forced_labour_likely"],
        "rule_set_version": data["rule_set_version"],
        "rule_set_hash": data["rule_set_hash"],
        "reference_data_edition": data["reference_data_edition"],
        "indicators": [
            {"indicator": f["indicator"], "strength": f["strength"], "severity": f["severity"]}
            for f in data["findings"]
        ],
        "ledger_seq": item.proof.seq,
    }


def _histories(items: Sequence[Item], key: str) -> list[list[Item]]:
    by_id: dict[str, list[Item]] = {}
    for item in items:
        by_id.setdefault(item.data[key], []).append(item)
    return [by_id[k] for k in sorted(by_id)]


def revision(item: Item) -> int:
    """An alert's revision (0: raised) or a case's."""
    return 0 if item.event_type == ALERT_RAISED else int(item.data["revision"])


def _latest(history: list[Item]) -> Document:
    last = max(history, key=revision)
    return {
        "alert_id": last.data["alert_id"],
        "alert_type": last.data["alert_type"],
        "risk_level": last.data["risk_level"],
        "status": last.data.get("status", "open"),
        "revisions": len(history),
        "summary": last.data["summary"],
        "ledger_seq": last.proof.seq,
    }


def _case(history: list[Item]) -> Document:
    last = max(history, key=revision)
    return {
        "case_id": last.data["case_id"],
        "status": last.data["status"],
        "severity": last.data["severity"],
        "owner": last.data["owner"],
        "due_at": last.data["due_at"],
        "changes": len(history),
        "ledger_seq": last.proof.seq,
    }


def links(gathered: Gathered) -> list[tuple[Document, Item]]:
    """Recruitment-chain links that name the entity, from its own screenings and from those
    of the other side of the link, each with the screening that states it."""
    return [
        (link, item)
        for item in [*section(gathered, "screenings"), *section(gathered, "links")]
        for link in item.data["chain"]
        if gathered.entity_id in (link["recruiter_id"], link["supplier_id"])
    ]


def _links(gathered: Gathered) -> list[Document]:
    return [
        {**link, "stated_by": item.data["disclosure_id"], "ledger_seq": item.proof.seq}
        for link, item in links(gathered)
    ]
