"""The retention contract: the cutoff a purge goes by, and which records a hold keeps."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from laboursight_schemas.retention import (
    DEFAULT_RETENTION_YEARS,
    MIN_RETENTION_YEARS,
    LegalHold,
    is_held,
    purgeable_before,
    years_of,
)

TENANT_WIDE = LegalHold("hold-t", None, None)
ON_SUPPLIER = LegalHold("hold-s", "supplier", "SUP-1")


def test_the_default_is_the_legal_floor_of_seven_years() -> None:
    assert DEFAULT_RETENTION_YEARS == MIN_RETENTION_YEARS == 7
    assert years_of(None) == 7
    assert years_of({"years": 12}) == 12


def test_the_cutoff_is_the_same_moment_the_years_before() -> None:
    at = datetime(2033, 12, 2, 18, 30, tzinfo=UTC)
    assert purgeable_before(at, 7) == datetime(2026, 12, 2, 18, 30, tzinfo=UTC)
    assert purgeable_before(at, 10) == datetime(2023, 12, 2, 18, 30, tzinfo=UTC)


def test_the_cutoff_is_in_utc_whatever_the_clocks_zone() -> None:
    at = datetime(2033, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert purgeable_before(at, 7) == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)


def test_from_a_29_february_nothing_goes_before_it_is_seven_years_old() -> None:
    at = datetime(2032, 2, 29, 10, 0, tzinfo=UTC)
    cutoff = purgeable_before(at, 7)
    assert cutoff == datetime(2025, 2, 28, 10, 0, tzinfo=UTC)
    # Seven years old on 1 March 2032, so not yet.
    assert not datetime(2025, 3, 1, 9, 0, tzinfo=UTC) < cutoff


@pytest.mark.parametrize("years", [0, 6, 101])
def test_a_retention_out_of_bounds_is_refused(years: int) -> None:
    with pytest.raises(ValueError, match="retention must be 7 to 100 years"):
        purgeable_before(datetime(2033, 1, 1, tzinfo=UTC), years)


def test_a_naive_clock_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        purgeable_before(datetime(2033, 1, 1), 7)


def test_a_tenant_wide_hold_keeps_every_record() -> None:
    assert is_held([TENANT_WIDE], "supplier", "SUP-9")
    assert is_held([TENANT_WIDE], "recruiter", "REC-1")
    assert is_held([TENANT_WIDE], None, None)


def test_a_hold_on_an_entity_keeps_that_entitys_records_only() -> None:
    assert is_held([ON_SUPPLIER], "supplier", "SUP-1")
    assert not is_held([ON_SUPPLIER], "supplier", "SUP-2")
    assert not is_held([ON_SUPPLIER], "recruiter", "SUP-1")
    # A record of no entity (a test-send's delivery) only a tenant-wide hold keeps.
    assert not is_held([ON_SUPPLIER], None, None)
    assert not is_held([], "supplier", "SUP-1")
