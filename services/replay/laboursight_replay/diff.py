"""What a replay changes, compared with the record: plain Python, no I/O.

The outcome is one JSON-ready document (report.py renders it), every list in a fixed order and
nothing in it that depends on when or under which id the replay ran, so the same replay gives
the same bytes.

- **Disclosures and findings**, per disclosure: each indicator's finding added, removed or
  changed (strength, severity, or its evidence: rule, field, value, explanation), and the
  judgement (level, score, forced labour likely, confidence). The rule-set version each finding
  names is the replay's choice, so it is not a difference. A replayed disclosure with no
  recorded findings is one.
- **Entities** whose effective level differs at the end of the two histories.
- **Alerts**: per alert, the revisions the period's disclosures caused that tell analysts
  something new — raised, escalated, evidence added, reopened — each with its level, score,
  indicators and reason codes (indicator, strength, rule, fields, disclosure, recruiter). An
  alert with such revisions on one side only *appears* or *disappears*; otherwise it *changes*.
  Status changes (resolved, triaged, dismissed) are not compared: a resolution by a closed case
  and one by a later disclosure look alike in the record.
- **Reproducibility**: the recorded history folded again must give the recorded alerts; where it
  does not, differences of the replay may not be the rule set's.
"""

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from laboursight_schemas.findings import (
    AlertUpdated,
    Evidence,
    Finding,
    FindingsComputed,
    Judgement,
)

from .sides import AlertRevision, EntityKey, EntityState, Sides

FORMAT: Final = "laboursight-replay-report/1"
COMPARED_CHANGES: Final = ("raised", "escalated", "evidence_added", "reopened")
RAISING: Final = frozenset({"raised", "reopened"})

View = dict[str, Any]


def report(sides: Sides) -> View:
    period = sides.period
    disclosures = [
        d
        for computed in sorted(sides.replayed, key=lambda c: c.disclosure_id)
        if (d := compare_findings(sides.recorded.get(computed.disclosure_id), computed)) is not None
    ]
    entities = compare_entities(sides.recorded_entities, sides.replay_entities)
    alerts = compare_alerts(sides.recorded_alerts, sides.replay_alerts, period)
    unreproduced = compare_alerts(sides.recorded_alerts, sides.refolded_alerts, period)
    failures = sorted((failure_view(f) for f in sides.failures), key=_failure_order)
    findings = Counter(f["difference"] for d in disclosures for f in d["findings"])
    verdicts = Counter(a["verdict"] for a in alerts)
    summary = {
        "disclosures": len(sides.replayed),
        "recorded": sum(1 for c in sides.replayed if c.disclosure_id in sides.recorded),
        "disclosures_differing": len(disclosures),
        "findings_added": findings["added"],
        "findings_removed": findings["removed"],
        "findings_changed": findings["changed"],
        "judgements_changed": sum(1 for d in disclosures if d["judgement_changed"]),
        "entities_changed": len(entities),
        "alerts_appearing": verdicts["appears"],
        "alerts_disappearing": verdicts["disappears"],
        "alerts_changing": verdicts["changes"],
        "failures": len(failures),
    }
    summary["differences"] = len(disclosures) + len(entities) + len(alerts) + len(failures)
    return {
        "format": FORMAT,
        "parameters": parameters(sides.meta),
        "recorded_under": recorded_under(sides.recorded.values()),
        "summary": summary,
        "disclosures": disclosures,
        "entities": entities,
        "alerts": alerts,
        "failures": failures,
        "reproduced": {
            "alerts": len(_grouped(sides.recorded_alerts, period)),
            "alerts_differing": [
                {"alert_id": a["alert_id"], "dedupe_key": a["dedupe_key"], "verdict": a["verdict"]}
                for a in unreproduced
            ],
        },
    }


# --- findings ----------------------------------------------------------------------------


def evidence_view(evidence: Evidence) -> View:
    return {
        "rule_id": evidence.rule_id,
        "field": evidence.field,
        "value": evidence.value,
        "explanation": evidence.explanation,
    }


def finding_view(finding: Finding) -> View:
    return {
        "indicator": finding.indicator,
        "strength": finding.strength,
        "severity": finding.severity,
        "evidence": sorted((evidence_view(e) for e in finding.evidence), key=_evidence_order),
    }


def judgement_view(judgement: Judgement) -> View:
    return {
        "risk_level": judgement.risk_level,
        "score": judgement.score,
        "forced_labour_likely": judgement.forced_labour_likely,
        "confidence": judgement.confidence,
    }


def screening_view(computed: FindingsComputed) -> View:
    return {
        "rule_set_version": computed.rule_set_version,
        "rule_set_hash": computed.rule_set_hash,
        "reference_data_edition": computed.reference_data_edition,
        "judgement": judgement_view(computed.judgement),
    }


def compare_findings(recorded: FindingsComputed | None, replay: FindingsComputed) -> View | None:
    """The differences of one disclosure, or None when there is none."""
    before = {} if recorded is None else {f.indicator: finding_view(f) for f in recorded.findings}
    after = {f.indicator: finding_view(f) for f in replay.findings}
    findings = []
    for indicator in sorted(before.keys() | after.keys()):
        old, new = before.get(indicator), after.get(indicator)
        if old == new:
            continue
        findings.append(
            {
                "indicator": indicator,
                "difference": "added" if old is None else "removed" if new is None else "changed",
                "recorded": old,
                "replay": new,
                "evidence": evidence_differences(old, new),
            }
        )
    judgement_changed = recorded is None or judgement_view(recorded.judgement) != judgement_view(
        replay.judgement
    )
    if recorded is not None and not findings and not judgement_changed:
        return None
    return {
        "disclosure_id": replay.disclosure_id,
        "entity_kind": replay.entity_kind,
        "entity_id": replay.entity_id,
        "recorded": None if recorded is None else screening_view(recorded),
        "replay": screening_view(replay),
        "judgement_changed": judgement_changed,
        "findings": findings,
    }


def evidence_differences(old: View | None, new: View | None) -> list[View]:
    """Per (rule, field): the evidence on each side where they differ. A finding whose evidence
    is the same but its strength or severity is not gives one row with no rule."""
    before, after = _keyed(old), _keyed(new)
    rows = [
        {"rule_id": key[0], "field": key[1], "recorded": before.get(key), "replay": after.get(key)}
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]
    return rows or [{"rule_id": None, "field": None, "recorded": None, "replay": None}]


def _keyed(finding: View | None) -> dict[tuple[str, str, int], View]:
    if finding is None:
        return {}
    seen: Counter[tuple[str, str]] = Counter()
    keyed = {}
    for e in finding["evidence"]:
        seen[(e["rule_id"], e["field"])] += 1
        keyed[(e["rule_id"], e["field"], seen[(e["rule_id"], e["field"])])] = e
    return keyed


def _evidence_order(e: View) -> tuple[str, str, str]:
    return (e["rule_id"], e["field"], json.dumps(e["value"], sort_keys=True))


def recorded_under(computed: Iterable[FindingsComputed]) -> list[View]:
    """The rule sets and editions the period was recorded under, with how many disclosures."""
    counts = Counter(
        (c.rule_set_version, c.rule_set_hash or "", c.reference_data_edition) for c in computed
    )
    return [
        {
            "rule_set_version": version,
            "rule_set_hash": digest or None,
            "reference_data_edition": edition,
            "disclosures": count,
        }
        for (version, digest, edition), count in sorted(counts.items())
    ]


# --- entities ----------------------------------------------------------------------------


def entity_view(state: EntityState | None) -> View:
    if state is None:
        return {"risk_level": None, "score": None, "disclosure_id": None, "inherited_from": []}
    return {
        "risk_level": state.risk_level,
        "score": state.score,
        "disclosure_id": state.disclosure_id,
        "inherited_from": list(state.inherited_from),
    }


def compare_entities(
    recorded: Mapping[EntityKey, EntityState], replay: Mapping[EntityKey, EntityState]
) -> list[View]:
    """Entities whose effective level differs between the two histories' ends."""
    rows = []
    for key in sorted(recorded.keys() | replay.keys()):
        old, new = recorded.get(key), replay.get(key)
        if (old and old.risk_level) == (new and new.risk_level):
            continue
        rows.append(
            {
                "entity_kind": key[0],
                "entity_id": key[1],
                "recorded": entity_view(old),
                "replay": entity_view(new),
            }
        )
    return rows


# --- alerts ------------------------------------------------------------------------------


def change_of(alert: AlertRevision) -> str:
    return alert.change if isinstance(alert, AlertUpdated) else "raised"


def revision_view(alert: AlertRevision) -> View:
    return {
        "change": change_of(alert),
        "disclosure_id": alert.disclosure_id,
        "risk_level": alert.risk_level,
        "score": alert.score,
        "indicators": list(alert.indicators),
        "reasons": [
            {
                "indicator": r.indicator,
                "strength": r.strength,
                "rule_id": r.rule_id,
                "fields": list(r.fields),
                "disclosure_id": r.disclosure_id,
                "recruiter_id": r.recruiter_id,
            }
            for r in alert.reasons
        ],
    }


def _grouped(
    revisions: Sequence[AlertRevision], period: set[str]
) -> dict[str, list[AlertRevision]]:
    """Per alert id, the compared revisions the period caused, in revision order."""
    grouped: dict[str, list[AlertRevision]] = defaultdict(list)
    for alert in revisions:
        if alert.disclosure_id in period and change_of(alert) in COMPARED_CHANGES:
            grouped[alert.alert_id].append(alert)
    for group in grouped.values():
        group.sort(key=lambda a: a.revision if isinstance(a, AlertUpdated) else 0)
    return grouped


def compare_alerts(
    recorded: Sequence[AlertRevision], replay: Sequence[AlertRevision], period: set[str]
) -> list[View]:
    before, after = _grouped(recorded, period), _grouped(replay, period)
    rows = []
    for alert_id in before.keys() | after.keys():
        old = [revision_view(a) for a in before.get(alert_id, [])]
        new = [revision_view(a) for a in after.get(alert_id, [])]
        if old == new:
            continue
        if not old:
            verdict = "appears" if any(r["change"] in RAISING for r in new) else "changes"
        elif not new:
            verdict = "disappears" if any(r["change"] in RAISING for r in old) else "changes"
        else:
            verdict = "changes"
        first = (before.get(alert_id) or after[alert_id])[0]
        rows.append(
            {
                "alert_id": alert_id,
                "dedupe_key": first.dedupe_key,
                "alert_type": first.alert_type,
                "entity_kind": first.entity_kind,
                "entity_id": first.entity_id,
                "verdict": verdict,
                "recorded": old,
                "replay": new,
            }
        )
    return sorted(rows, key=lambda r: (r["dedupe_key"], r["alert_id"]))


# --- parameters and failures -------------------------------------------------------------


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def parameters(meta: Mapping[str, Any]) -> View:
    """What the replay was asked and what it read; nothing of when, or under which id."""
    return {
        "tenant_id": meta["tenant_id"],
        "source": meta["source"],
        "since": _text(meta.get("since")),
        "until": _text(meta.get("until")),
        "offsets": list(meta.get("offsets", [])),
        "start": _text(meta.get("start")),
        "rule_set_version": meta["rule_set_version"],
        "rule_set_hash": meta["rule_set_hash"],
        "reference_data_edition": meta["reference_data_edition"],
        "read_from": meta.get("read_from"),
        "screened": meta.get("screened"),
        "folded": meta.get("folded"),
    }


def failure_view(failure: Mapping[str, Any]) -> View:
    place = failure.get("place") or {}
    seq = failure.get("seq", place.get("seq"))
    where = (
        f"ledger entry {seq}"
        if seq is not None
        else f"{place.get('topic')}:{place.get('partition')}:{place.get('offset')}"
    )
    return {
        "stage": failure.get("verdict") or failure.get("stage"),
        "where": where,
        "event_id": failure.get("event_id"),
        "disclosure_id": failure.get("disclosure_id"),
        "reason": failure.get("reason"),
    }


def _failure_order(f: View) -> tuple[str, str, str]:
    return (str(f["stage"]), str(f["where"]), str(f["reason"]))
