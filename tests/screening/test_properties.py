"""Properties of the engine over generated disclosures: determinism, evidence, unknowns, invariants."""

import copy
import json
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar, get_args, get_origin

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

from laboursight_schemas.disclosure import (
    Disclosure,
    EntityKind,
    RecruiterDisclosure,
    SupplierDisclosure,
)
from laboursight_schemas.findings import CONTEXT_INDICATORS, SCORE_BANDS, Finding
from laboursight_screening.engine import SHIPPED, Screening, screen
from laboursight_screening.engine.scope import Scope
from tests.raw_disclosures import (
    FORCED_LABOUR_COUNTRIES,
    IntSpan,
    Presence,
    RealSpan,
    recruiter_disclosure,
    supplier_disclosure,
)
from tests.screening.support import REFERENCE, RULES, parse, resolve, run
from tests.strategies import disclosures, supplier_disclosures

T = TypeVar("T")
PROPERTY = settings(max_examples=500, deadline=None)
ADAPTER = TypeAdapter(Disclosure)
RULE_SET = SHIPPED.load(RULES.version)
RULES_BY_ID = {rule.id: rule for rule in RULE_SET.rules}
MODELS: dict[str, type[BaseModel]] = {
    "supplier": SupplierDisclosure,
    "recruiter": RecruiterDisclosure,
}
STRENGTH_ORDER = {"weak": 0, "medium": 1, "strong": 2}
FLAGGED_GOODS = {
    country: [row.good for row in REFERENCE.goods[country] if row.flags_forced_labour]
    for country in FORCED_LABOUR_COUNTRIES
}


def canonical(screening: Screening) -> str:
    """The findings and judgement as the contract publishes them, in canonical JSON."""
    findings = [Finding.model_validate(f, from_attributes=True) for f in screening.findings]
    return json.dumps(
        {
            "findings": [f.model_dump(mode="json") for f in findings],
            "judgement": screening.judgement.model_dump(mode="json"),
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def _model_in(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def spelled_out(raw: dict[str, Any], model: type[BaseModel]) -> dict[str, Any]:
    """``raw`` with every absent optional signal written as an explicit null, and every absent
    section written out as an object of nulls."""
    full = dict(raw)
    for name, info in model.model_fields.items():
        nested = _model_in(info.annotation)
        if name not in full and info.default is None:
            full[name] = None
        elif name not in full and nested is not None and get_origin(info.annotation) is not list:
            full[name] = {}
        value = full.get(name)
        if nested is None or value is None:
            continue
        if isinstance(value, list):
            full[name] = [spelled_out(item, nested) for item in value]
        else:
            full[name] = spelled_out(value, nested)
    return full


def without_signals(raw: dict[str, Any]) -> dict[str, Any]:
    """Only what names the disclosure: kind, period, references and the identity of the entity
    and of the links in its recruitment chain; none of it is a signal any rule reads."""
    kept: dict[str, Any] = {"kind": raw["kind"], "period": raw["period"]}
    if "external_ref" in raw:
        kept["external_ref"] = raw["external_ref"]
    if raw["kind"] == "supplier":
        identity: tuple[str, ...] = ("supplier_id", "name", "country", "site_id", "sector")
        kept["supplier"] = {k: v for k, v in raw["supplier"].items() if k in identity}
        if "recruiters_used" in raw:
            kept["recruiters_used"] = raw["recruiters_used"]
    else:
        identity = ("recruiter_id", "name", "country", "license_number")
        kept["recruiter"] = {k: v for k, v in raw["recruiter"].items() if k in identity}
        if "placements" in raw:
            kept["placements"] = raw["placements"]
    return kept


# --- the generated inputs ------------------------------------------------------------------------


class Everything:
    """Every signal present, every list filled: the most a generated disclosure can hold."""

    def presence(self) -> Presence:
        return "value"

    def flag(self, adverse: bool) -> bool:
        return adverse

    def pick(self, options: Sequence[T], adverse: Sequence[T] = ()) -> T:
        return options[-1]

    def integer(self, benign: IntSpan, adverse: IntSpan, marks: Sequence[int] = ()) -> int:
        return max(benign[1], adverse[1])

    def real(self, benign: RealSpan, adverse: RealSpan, marks: Sequence[float] = ()) -> float:
        return max(benign[1], adverse[1])

    def text(self, examples: Sequence[str]) -> str:
        return examples[0]


def contract_paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, info in model.model_fields.items():
        yield prefix + name
        nested = _model_in(info.annotation)
        if nested is not None:
            inside = "[]." if get_origin(info.annotation) is list else "."
            yield from contract_paths(nested, prefix + name + inside)


def raw_paths(raw: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for name, value in raw.items():
        yield prefix + name
        if isinstance(value, dict):
            yield from raw_paths(value, prefix + name + ".")
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    yield from raw_paths(item, prefix + name + "[].")


def test_generated_disclosures_can_hold_every_field_of_the_contract() -> None:
    for build, model in (
        (supplier_disclosure, SupplierDisclosure),
        (recruiter_disclosure, RecruiterDisclosure),
    ):
        raw = build(Everything())

        parse(raw)
        assert set(contract_paths(model)) - set(raw_paths(raw)) == set()


# --- (a) determinism -----------------------------------------------------------------------------


@PROPERTY
@given(disclosures())
def test_the_same_disclosure_always_screens_to_the_same_bytes(raw: dict[str, Any]) -> None:
    disclosure = parse(raw)
    first = canonical(screen(disclosure, RULES, REFERENCE))

    assert canonical(screen(disclosure, RULES, REFERENCE)) == first
    assert canonical(screen(ADAPTER.validate_json(json.dumps(raw)), RULES, REFERENCE)) == first
    # Re-serialised by the contract itself: whole numbers now read 5100.0 where the submitter
    # wrote 5100, and every default is spelled out.
    assert (
        canonical(screen(ADAPTER.validate_json(ADAPTER.dump_json(disclosure)), RULES, REFERENCE))
        == first
    )


@PROPERTY
@given(disclosures())
def test_the_generated_conditions_agree_with_the_interpreter(raw: dict[str, Any]) -> None:
    """codegen is an optimisation: each rule's truth must be what the evaluators say it is."""
    disclosure = parse(raw)
    scope = Scope(disclosure, REFERENCE)
    compiled = RULES.rules[disclosure.kind]
    generated = RULES.truths[disclosure.kind].evaluate(disclosure, scope)
    for rule, result in zip(compiled, generated, strict=True):
        interpreted = rule.each_truth(scope) if rule.for_each else rule.truth(scope)
        assert result == interpreted, rule.rule.id


# --- (b) evidence ------------------------------------------------------------------------------------


@PROPERTY
@given(disclosures())
def test_every_evidence_path_exists_in_the_input_with_the_value_cited(raw: dict[str, Any]) -> None:
    for finding in run(raw).findings:
        for evidence in finding.evidence:
            submitted = resolve(raw, evidence.field)

            assert submitted is not None, evidence.field
            assert submitted == evidence.value, evidence.field
            # True == 1 in Python; a yes/no answer is not a head count.
            assert isinstance(submitted, bool) == isinstance(evidence.value, bool), evidence.field


# --- (c) null is not false ----------------------------------------------------------------------


def _assert_nothing_assessed(screening: Screening, kind: EntityKind) -> None:
    judgement = screening.judgement
    assert list(screening.findings) == []
    assert judgement.confidence == 0
    assert judgement.not_assessed == RULES.assessable[kind]
    assert (judgement.risk_level, judgement.score) == ("low", 0)
    assert not judgement.forced_labour_likely


@PROPERTY
@given(disclosures())
def test_an_explicit_null_screens_exactly_like_an_absent_signal(raw: dict[str, Any]) -> None:
    assert canonical(run(spelled_out(raw, MODELS[raw["kind"]]))) == canonical(run(raw))


@PROPERTY
@given(disclosures())
def test_without_any_signal_nothing_is_found_and_nothing_assessed(raw: dict[str, Any]) -> None:
    bare = without_signals(raw)

    _assert_nothing_assessed(run(bare), raw["kind"])
    _assert_nothing_assessed(run(spelled_out(bare, MODELS[raw["kind"]])), raw["kind"])


def test_a_disclosure_of_only_the_required_fields_has_no_finding_and_no_confidence() -> None:
    period = {"start": "2026-01-01", "end": "2026-06-30"}
    supplier = {"kind": "supplier", "period": period, "supplier": {"supplier_id": "SUP-1"}}
    recruiter = {"kind": "recruiter", "period": period, "recruiter": {"recruiter_id": "REC-1"}}

    _assert_nothing_assessed(run(supplier), "supplier")
    _assert_nothing_assessed(run(recruiter), "recruiter")


# --- (d) invariants ----------------------------------------------------------------------------------


@PROPERTY
@given(disclosures())
def test_judgement_and_findings_hold_their_invariants(raw: dict[str, Any]) -> None:
    result = run(raw)
    judgement = result.judgement
    counted = [f for f in result.findings if f.indicator not in CONTEXT_INDICATORS]
    low, high = SCORE_BANDS[judgement.risk_level]

    assert low <= judgement.score <= high
    # Weak findings of low severity are reported but do not lift the level.
    lifting = [f for f in counted if (f.strength, f.severity) != ("weak", "low")]
    assert (judgement.risk_level == "low") == (not lifting)
    if judgement.forced_labour_likely:
        assert judgement.risk_level in ("high", "critical")
    assessable = RULES.assessable[raw["kind"]]
    assert set(judgement.not_assessed) <= set(assessable)
    assert judgement.confidence == round(1 - len(judgement.not_assessed) / len(assessable), 4)
    assert len({f.indicator for f in result.findings}) == len(result.findings)
    for finding in result.findings:
        assert finding.indicator not in judgement.not_assessed
        assert finding.rule_set_version == RULES.version
        assert finding.reference_data_edition == REFERENCE.edition
        rules = [RULES_BY_ID[e.rule_id] for e in finding.evidence]
        assert all(rule.indicator == finding.indicator for rule in rules)
        assert all(raw["kind"] in rule.applies_to for rule in rules)
        assert finding.strength == max(
            (rule.strength for rule in rules), key=STRENGTH_ORDER.__getitem__
        )


@PROPERTY
@given(supplier_disclosures(), st.data())
def test_commodity_origin_context_never_moves_the_judgement(
    raw: dict[str, Any], data: st.DataObject
) -> None:
    country = data.draw(st.sampled_from(FORCED_LABOUR_COUNTRIES))
    listed = data.draw(st.sampled_from(FLAGGED_GOODS[country]))
    with_goods = copy.deepcopy(raw)
    with_goods["supplier"]["country"] = country
    with_goods["supplier"]["goods"] = [*raw["supplier"].get("goods", []), listed]
    without_goods = copy.deepcopy(with_goods)
    del without_goods["supplier"]["goods"]

    flagged, plain = run(with_goods), run(without_goods)

    assert "high_risk_origin_good" in {f.indicator for f in flagged.findings}
    assert [f for f in flagged.findings if f.indicator not in CONTEXT_INDICATORS] == list(
        plain.findings
    )
    assert flagged.judgement.model_dump(exclude={"explanation"}) == plain.judgement.model_dump(
        exclude={"explanation"}
    )
