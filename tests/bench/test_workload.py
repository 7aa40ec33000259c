"""Binding the corpus to a phase's entity ids, keeping every disclosure valid."""

from pydantic import TypeAdapter

from laboursight_schemas.disclosure import Disclosure
from tests.bench.corpus import corpus
from tests.bench.workload import bind, entity_id

MADE = [raw for _, raw in corpus(200, seed=7)]
VALID: TypeAdapter[Disclosure] = TypeAdapter(Disclosure)


def test_without_a_pool_every_disclosure_is_its_own_entity_in_the_phase_space() -> None:
    bound = bind(MADE, "p20")
    ids = [entity_id(body) for body in bound.bodies]
    assert len(set(ids)) == len(MADE)
    assert bound.entity_ids == frozenset(ids)
    assert all(i.startswith(("SUP-p20-", "REC-p20-")) for i in ids)


def test_a_pool_bounds_the_entities_so_they_disclose_repeatedly() -> None:
    bound = bind(MADE, "acc", pool=8)
    assert len(bound.entity_ids) == 16
    assert sum(1 for i in bound.entity_ids if i.startswith("SUP-acc-")) == 8


def test_recruitment_links_point_into_the_same_space() -> None:
    bound = bind(MADE, "dir")
    recruiters = {i for i in bound.entity_ids if i.startswith("REC-")}
    suppliers = {i for i in bound.entity_ids if i.startswith("SUP-")}
    used = [u["recruiter_id"] for b in bound.bodies for u in b.get("recruiters_used") or () if u]
    placed = [
        p["employer_supplier_id"]
        for b in bound.bodies
        for p in b.get("placements") or ()
        if isinstance(p.get("employer_supplier_id"), str)
    ]
    assert used
    assert placed
    assert set(used) <= recruiters
    assert set(placed) <= suppliers


def test_bound_disclosures_stay_valid_and_the_corpus_is_left_as_it_was() -> None:
    before = [repr(raw) for raw in MADE]
    bound = bind(MADE, "tpl", pool=3)
    for body in bound.bodies:
        VALID.validate_python(body)
    assert [repr(raw) for raw in MADE] == before
    assert [b["kind"] for b in bound.bodies] == [raw["kind"] for raw in MADE]
