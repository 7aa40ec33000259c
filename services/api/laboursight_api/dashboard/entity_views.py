"""What the entity page shows of a screening and of the recruitment chain, shaped from the stored
documents for the template. No I/O."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Grounds:
    """One rule's reason for one finding: its explanation and the fields it read."""

    indicator: str
    strength: str
    rule_id: str
    explanation: str
    fields: list[tuple[str, Any]]
    rule_set_version: str


def grounds(findings: list[dict[str, Any]]) -> list[Grounds]:
    """A finding's evidence, one row per rule and explanation rather than per field: a rule
    that reads seven fields says why once."""
    rows: dict[tuple[int, str, str], Grounds] = {}
    for n, f in enumerate(findings):
        for e in f["evidence"]:
            row = rows.setdefault(
                (n, e["rule_id"], e["explanation"]),
                Grounds(
                    f["indicator"],
                    f["strength"],
                    e["rule_id"],
                    e["explanation"],
                    [],
                    f["rule_set_version"],
                ),
            )
            row.fields.append((e["field"], e["value"]))
    return list(rows.values())


def says(link: dict[str, Any]) -> str:
    """What one side's disclosure says of a link: the workers, the share, or just the field."""
    workers, share = link.get("workers"), link.get("workforce_share")
    said = [
        f"{workers} workers" if workers is not None else None,
        f"{share * 100:.0f} % of the workforce" if share is not None else None,
    ]
    return f"the {link['declared_by']} says " + (
        ", ".join(s for s in said if s) or f"it is linked ({link['field']})"
    )


def inherent(context: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The context that is not a watchlist match (the DOL list), as (indicator, explanation):
    one line per explanation, as several fields may give the same good and origin."""
    return list(
        dict.fromkeys(
            (c["indicator"], e["explanation"])
            for c in context
            if not c.get("watchlist")
            for e in c["evidence"]
        )
    )
