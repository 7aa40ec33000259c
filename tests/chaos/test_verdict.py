"""The fault suite's verdict on hand-written trials: each way of losing or duplicating counts."""

from collections.abc import Collection, Mapping, Sequence

from tests.chaos.records import Delivery, Submission
from tests.chaos.verdict import Status, Verdict, judge

BONDED, CLEAN = "03-bonded-palm-plantation-my", "01-clean-garment-factory-my"
ALERTING = {BONDED}
SCREENED_CRITICAL = Status("screened", "critical")
SCREENED_LOW = Status("screened", "low")


def submission(entity: str, template: str, status: int | None, disclosure: str = "") -> Submission:
    return Submission(
        entity_id=entity,
        template=template,
        idempotency_key=f"key-{entity}",
        sent_at=0.0,
        attempts=1,
        answered_at=None if status is None else 0.1,
        status=status,
        disclosure_id=disclosure or None,
    )


def verdict(
    submissions: Sequence[Submission],
    statuses: Mapping[str, Status],
    deliveries: Collection[Delivery] = (),
    stored: Mapping[str, Collection[str]] | None = None,
) -> Verdict:
    if stored is None:
        stored = {s.entity_id: {str(s.disclosure_id)} for s in submissions if s.disclosure_id}
    return judge(submissions, statuses, stored, deliveries, ALERTING)


def test_a_clean_trial_counts_nothing() -> None:
    result = verdict(
        [submission("e1", BONDED, 202, "d1"), submission("e2", CLEAN, 202, "d2")],
        {"d1": SCREENED_CRITICAL, "d2": SCREENED_LOW},
        [Delivery("w1", "e1", "d1", "a-e1")],
    )
    assert (result.accepted, result.lost, result.duplicated, result.left_accepted) == (2, 0, 0, 0)
    assert not result.failed
    assert result.problems == ()


def test_an_accepted_disclosure_never_screened_is_lost_with_the_alert_it_warrants() -> None:
    result = verdict(
        [submission("e1", BONDED, 202, "d1"), submission("e2", CLEAN, 202, "d2")],
        {"d1": Status("accepted", None), "d2": Status("missing", None)},
    )
    assert result.lost == 3  # two disclosures, and the bonded one's alert
    assert result.left_accepted == 1
    assert result.failed


def test_a_screened_high_risk_disclosure_without_its_alert_is_lost() -> None:
    result = verdict([submission("e1", BONDED, 202, "d1")], {"d1": SCREENED_CRITICAL})
    assert result.lost == 1
    assert result.problems == ("alert never delivered: e1",)


def test_the_judgement_decides_whether_an_alert_is_warranted() -> None:
    # A template expected to alert whose disclosure was judged medium warrants no alert.
    result = verdict([submission("e1", BONDED, 202, "d1")], {"d1": Status("screened", "medium")})
    assert result.lost == 0


def test_a_webhook_id_delivered_twice_is_counted_as_repeated_not_as_a_second_alert() -> None:
    delivery = Delivery("w1", "e1", "d1", "a-e1")
    result = verdict(
        [submission("e1", BONDED, 202, "d1")], {"d1": SCREENED_CRITICAL}, [delivery, delivery]
    )
    assert (result.duplicated, result.repeated, result.failed) == (0, 1, False)


def test_one_alert_under_a_second_webhook_id_or_an_unwarranted_one_is_a_duplicate() -> None:
    result = verdict(
        [submission("e1", BONDED, 202, "d1"), submission("e2", CLEAN, 202, "d2")],
        {"d1": SCREENED_CRITICAL, "d2": SCREENED_LOW},
        [
            Delivery("w1", "e1", "d1", "a-e1"),
            Delivery("w2", "e1", "d1", "a-e1"),
            Delivery("w3", "e2", "d2", "a-e2"),
        ],
    )
    assert result.duplicated == 2


def test_alerts_of_several_types_for_one_disclosure_are_no_duplicates() -> None:
    result = verdict(
        [submission("e1", BONDED, 202, "d1")],
        {"d1": SCREENED_CRITICAL},
        [Delivery(f"w{n}", "e1", "d1", f"a-e1-{kind}") for n, kind in enumerate("lsf")],
    )
    assert (result.duplicated, result.failed) == (0, False)


def test_two_visible_disclosures_for_one_entity_are_a_duplicate() -> None:
    result = verdict(
        [submission("e1", CLEAN, 202, "d1")],
        {"d1": SCREENED_LOW, "d9": SCREENED_LOW},
        stored={"e1": {"d1", "d9"}},
    )
    assert result.duplicated == 1


def test_a_503_that_lands_later_is_counted_and_one_that_stays_out_is_not() -> None:
    refused = [submission("e1", CLEAN, 503), submission("e2", BONDED, 503)]
    stayed_out = verdict(refused, {"t1": Status("missing", None)}, stored={"e1": {"t1"}})
    assert (stayed_out.refused, stayed_out.landed_503, stayed_out.failed) == (2, 0, False)

    landed = verdict(
        refused, {"d1": SCREENED_LOW}, [Delivery("w2", "e2", "d2", "a-e2")], stored={"e1": {"d1"}}
    )
    assert landed.landed_503 == 2


def test_an_unanswered_request_that_landed_may_alert_once() -> None:
    result = verdict(
        [submission("e1", BONDED, None)],
        {"d1": SCREENED_CRITICAL},
        [Delivery("w1", "e1", "d1", "a-e1")],
        stored={"e1": {"d1"}},
    )
    assert (result.unanswered, result.lost, result.duplicated) == (1, 0, 0)
