"""Replay diff reports, as ``laboursight-replay`` writes them (``report.json`` in a folder of
its own), from the folder ``API_REPLAY_REPORTS_DIR`` names: each subfolder holding one is a
report. A report names its tenant (``parameters.tenant_id``); a viewer sees only its own."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

FORMAT: Final = "laboursight-replay-report/1"
REPORT: Final = "report.json"
SHOWN: Final = 50


@dataclass(frozen=True)
class Report:
    name: str
    parameters: dict[str, Any]
    summary: dict[str, Any]
    entities: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    disclosures: list[dict[str, Any]]


def _read(path: Path) -> dict[str, Any] | None:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("format") == FORMAT else None


def reports_of(folder: Path | None, tenant_id: str) -> list[Report]:
    """The tenant's reports in ``folder``, by folder name; what cannot be read is left out."""
    if folder is None or not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(f"*/{REPORT}")):
        report = _read(path)
        if report is None or report.get("parameters", {}).get("tenant_id") != tenant_id:
            continue
        found.append(
            Report(
                name=path.parent.name,
                parameters=report["parameters"],
                summary=report.get("summary", {}),
                entities=report.get("entities", [])[:SHOWN],
                alerts=report.get("alerts", [])[:SHOWN],
                disclosures=report.get("disclosures", [])[:SHOWN],
            )
        )
    return found
