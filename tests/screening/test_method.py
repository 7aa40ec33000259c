"""The open method: the committed rule-set documents are exactly what the rule sets generate."""

from pathlib import Path

import pytest

from laboursight_screening.engine import SHIPPED
from laboursight_screening.method import document, main

METHOD = Path(__file__).parents[2] / "services" / "screening" / "method"


@pytest.mark.parametrize("version", SHIPPED.versions())
def test_committed_document_matches_the_rule_set(version: str) -> None:
    committed = (METHOD / f"{version}.md").read_text(encoding="utf-8")
    assert committed == document(version), f"run: make method (rule set {version} changed)"


def test_every_rule_and_rationale_is_in_the_document() -> None:
    version = SHIPPED.versions()[-1]
    text = document(version)
    for rule in SHIPPED.load(version).rules:
        assert f"#### `{rule.id}`" in text
        assert rule.rationale in text


def test_command_writes_the_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "method.md"
    main(["document", "-o", str(target)])
    assert target.read_text(encoding="utf-8") == document(SHIPPED.current_version())
    main(["list"])
    assert SHIPPED.versions()[-1] in capsys.readouterr().out
    main(["source", SHIPPED.versions()[-1], "recruiter"])
    assert "# documents.recruiter_holds" in capsys.readouterr().out
