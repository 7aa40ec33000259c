"""Realistic disclosures with the outcome an analyst expects of each, run through the engine
in memory (tests/screening/test_cases.py) and through the running system (tests/e2e)."""

import json
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).parent


def load_cases() -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(FOLDER.glob("*.json"))}


CASES = load_cases()
