"""Reference data: editions, exchange rates, the DOL goods list and the currencies the API accepts."""

import unicodedata
from datetime import date
from importlib.resources import files
from types import MappingProxyType

import pycountry
import pytest
from pydantic import TypeAdapter, ValidationError

from laboursight_schemas.codes import CurrencyCode
from laboursight_schemas.disclosure import Disclosure
from laboursight_schemas.reference import (
    CURRENT_EDITION,
    EDITIONS,
    ExchangeRates,
    known_currencies,
    load_reference,
)
from laboursight_schemas.reference.countries import country_code
from laboursight_schemas.reference.dol import good_key
from laboursight_schemas.reference.edition import MANIFEST, build_reference
from laboursight_schemas.reference.fx import parse_rates
from tests.factories import supplier

# A published edition never changes: a new hash here means a file was edited in place.
PUBLISHED = {"2026.11": "407160ebf5e6fa749cc189fcd67d6df87e6d9221d73cf974b0c76cdc334bc878"}

RATES = ExchangeRates(date(2026, 10, 30), MappingProxyType({"USD": 1.0, "MYR": 4.0, "NPR": 150.0}))


def edition_files(edition: str) -> dict[str, bytes]:
    folder = files("laboursight_schemas.reference") / "editions" / edition
    return {entry.name: entry.read_bytes() for entry in folder.iterdir() if entry.is_file()}


def test_every_published_edition_is_shipped_unchanged() -> None:
    assert {edition: load_reference(edition).sha256 for edition in EDITIONS} == PUBLISHED


def test_the_current_edition_is_the_newest() -> None:
    assert EDITIONS == ("2026.11",)
    assert CURRENT_EDITION == "2026.11"
    assert load_reference() is load_reference("2026.11")


def test_an_unknown_edition_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown reference data edition '2020\.01'.*2026\.11"):
        load_reference("2020.01")


def test_a_file_edited_in_place_is_refused() -> None:
    tampered = edition_files("2026.11")
    tampered["fx-usd.csv"] = tampered["fx-usd.csv"].replace(b"MYR,4.05702", b"MYR,4.10000")

    with pytest.raises(ValueError, match=r"fx-usd\.csv has sha256 .* never edited in place"):
        build_reference("2026.11", tampered)


def test_a_file_missing_from_the_edition_is_refused() -> None:
    partial = edition_files("2026.11")
    del partial["dol-ilab-goods-2022.csv"]

    with pytest.raises(ValueError, match=r"lacks dol-ilab-goods-2022\.csv"):
        build_reference("2026.11", partial)


def test_a_manifest_of_another_edition_is_refused() -> None:
    with pytest.raises(ValueError, match=r"holds the manifest of 2026\.11"):
        build_reference("2026.12", edition_files("2026.11"))


def test_edition_metadata_comes_from_the_manifest() -> None:
    reference = load_reference("2026.11")

    assert reference.fx.as_of == date(2026, 10, 30)
    assert MANIFEST in edition_files("2026.11")
    assert sum(len(rows) for rows in reference.goods.values()) == 467


# Exchange rates


def test_conversion_to_and_from_usd() -> None:
    assert RATES.convert(400, "MYR", "USD") == pytest.approx(100)
    assert RATES.convert(100, "USD", "MYR") == pytest.approx(400)


def test_conversion_between_two_currencies_goes_through_usd() -> None:
    assert RATES.convert(400, "MYR", "NPR") == pytest.approx(15_000)
    assert RATES.convert(15_000, "NPR", "MYR") == pytest.approx(400)
    assert RATES.convert(123.45, "NPR", "NPR") == 123.45


@pytest.mark.parametrize(("source", "target"), [("XAU", "USD"), ("USD", "XAU"), ("XAU", "XAU")])
def test_a_currency_without_a_rate_converts_to_none(source: str, target: str) -> None:
    assert RATES.convert(100, source, target) is None


def test_pegs_hold_in_the_shipped_table() -> None:
    fx = load_reference("2026.11").fx

    assert fx.convert(375, "SAR", "USD") == pytest.approx(100)
    assert fx.convert(3.6725, "AED", "SAR") == pytest.approx(3.75)
    assert fx.convert(160, "NPR", "INR") == pytest.approx(100, rel=1e-5)
    assert fx.convert(655.957, "XOF", "EUR") == pytest.approx(1, rel=1e-5)


def test_the_table_prices_the_currencies_of_origin_and_destination() -> None:
    gulf_and_asia = {"SAR", "AED", "QAR", "KWD", "BHD", "OMR", "JOD", "MYR", "SGD", "THB", "TWD"}
    others = {"KRW", "JPY", "HKD", "EUR", "GBP", "USD", "CAD", "AUD", "NZD", "CHF"}
    origins = {"NPR", "BDT", "PKR", "LKR", "INR", "IDR", "PHP", "VND", "MMK", "KHR", "LAK"}
    africa = {"NGN", "KES", "UGX", "ETB", "GHS"}

    assert gulf_and_asia | others | origins | africa <= known_currencies()


def test_every_priced_currency_is_iso_4217() -> None:
    assert {c for c in known_currencies() if pycountry.currencies.get(alpha_3=c) is None} == set()


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("MYR,4.05,guess", "no known provenance"),
        ("MYR,0,indicative", "not positive"),
        ("MYR,nan,indicative", "not positive"),
        ("myr,4.05,indicative", "malformed or repeated"),
        ("USD,1,base", "malformed or repeated"),
        ("MYR,4.05", "expected 3 fields"),
    ],
)
def test_a_malformed_rate_is_refused(line: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_rates(f"currency,units_per_usd,source\nUSD,1,base\n{line}\n", date(2026, 1, 1))


def test_a_table_without_usd_at_one_is_refused() -> None:
    with pytest.raises(ValueError, match="USD must be present"):
        parse_rates("currency,units_per_usd,source\nMYR,4.05,indicative\n", date(2026, 1, 1))


# Countries of the DOL list

# Hand-checked, since pycountry's own names differ or its lookup would need a fuzzy match.
AWKWARD = {
    "Burma": "MM",
    "Côte d'Ivoire": "CI",
    "Congo, Democratic Republic of the": "CD",
    "Kyrgyz Republic": "KG",
    "Turkey (Türkiye)": "TR",
    "North Korea": "KP",
    "Taiwan": "TW",
    "Russia": "RU",
    "Iran": "IR",
    "Vietnam": "VN",
    "Bolivia": "BO",
    "Tanzania": "TZ",
    "Venezuela": "VE",
    "Eswatini": "SZ",
    "Niger": "NE",
    "Nigeria": "NG",
    "Guinea": "GN",
    "Sudan": "SD",
    "South Sudan": "SS",
}


@pytest.mark.parametrize(("name", "code"), sorted(AWKWARD.items()))
def test_awkward_country_names_map_right(name: str, code: str) -> None:
    assert country_code(name) == code
    assert country_code(unicodedata.normalize("NFD", name)) == code


def test_every_dol_country_maps_to_its_own_code() -> None:
    rows = [row for rows in load_reference("2026.11").goods.values() for row in rows]
    names_by_code: dict[str, set[str]] = {}
    for row in rows:
        assert pycountry.countries.get(alpha_2=row.country) is not None, row
        names_by_code.setdefault(row.country, set()).add(row.country_name)

    assert len(names_by_code) == 78
    assert all(len(names) == 1 for names in names_by_code.values()), names_by_code
    codes = {row.country_name: row.country for row in rows}
    assert {name: codes[name] for name in AWKWARD} == AWKWARD


def test_an_unknown_country_name_is_an_error() -> None:
    with pytest.raises(ValueError, match="Atlantis"):
        country_code("Atlantis")


# The local currency of every country on the DOL list (several also use USD).
DOL_CURRENCIES = {
    "AF": "AFN", "AO": "AOA", "AR": "ARS", "AZ": "AZN", "BD": "BDT", "BZ": "BZD", "BJ": "XOF",
    "BO": "BOB", "BR": "BRL", "BF": "XOF", "MM": "MMK", "KH": "KHR", "CM": "XAF", "CF": "XAF",
    "TD": "XAF", "CN": "CNY", "CO": "COP", "CD": "CDF", "CR": "CRC", "CI": "XOF", "DO": "DOP",
    "EC": "USD", "EG": "EGP", "SV": "USD", "SZ": "SZL", "ET": "ETB", "GH": "GHS", "GT": "GTQ",
    "GN": "GNF", "HN": "HNL", "IN": "INR", "ID": "IDR", "IR": "IRR", "KZ": "KZT", "KE": "KES",
    "KG": "KGS", "LB": "LBP", "LS": "LSL", "LR": "LRD", "MG": "MGA", "MW": "MWK", "MY": "MYR",
    "ML": "XOF", "MR": "MRU", "MX": "MXN", "MN": "MNT", "MZ": "MZN", "NP": "NPR", "NI": "NIO",
    "NE": "XOF", "NG": "NGN", "KP": "KPW", "PK": "PKR", "PA": "PAB", "PY": "PYG", "PE": "PEN",
    "PH": "PHP", "RU": "RUB", "RW": "RWF", "SN": "XOF", "SL": "SLE", "SS": "SSP", "SD": "SDG",
    "SR": "SRD", "TW": "TWD", "TJ": "TJS", "TZ": "TZS", "TH": "THB", "TR": "TRY", "TM": "TMT",
    "UG": "UGX", "UA": "UAH", "UZ": "UZS", "VE": "VES", "VN": "VND", "YE": "YER", "ZM": "ZMW",
    "ZW": "ZWG",
}  # fmt: skip


def test_every_dol_country_has_its_currency_priced() -> None:
    assert set(load_reference("2026.11").goods) == set(DOL_CURRENCIES)
    assert set(DOL_CURRENCIES.values()) - known_currencies() == set()


# Matching goods against the list


@pytest.mark.parametrize("name", ["Garments", "garment", "  GARMENTS. ", "garments!"])
def test_a_listed_forced_labour_good_is_found_however_it_is_written(name: str) -> None:
    [(index, row)] = load_reference("2026.11").forced_labour_goods("MY", [name])

    assert index == 0
    assert (row.good, row.country, row.country_name, row.forced_labour) == (
        "Garments",
        "MY",
        "Malaysia",
        True,
    )


def test_matches_point_at_the_supplier_goods_they_came_from() -> None:
    found = load_reference("2026.11").forced_labour_goods("MY", ["Tea", "rubber-gloves", "Palm"])

    assert [(index, row.good) for index, row in found] == [(1, "Rubber Gloves")]


def test_a_child_labour_only_good_is_not_a_forced_labour_match() -> None:
    reference = load_reference("2026.11")
    [acai] = [row for row in reference.goods["BR"] if good_key(row.good) == good_key("acai berry")]

    assert (acai.child_labour, acai.forced_labour, acai.forced_child_labour) == (True, False, False)
    assert reference.forced_labour_goods("BR", ["Açaí Berries", "acai berry"]) == []


def test_the_same_good_elsewhere_or_unlisted_country_is_not_a_match() -> None:
    reference = load_reference("2026.11")

    assert reference.forced_labour_goods("DE", ["Garments"]) == []
    assert reference.forced_labour_goods("MY", ["Cocoa", "", "   "]) == []


def test_a_parenthetical_qualifier_on_the_listed_name_is_optional() -> None:
    found = load_reference("2026.11").forced_labour_goods(
        "CD", ["Tin ore", "tantalum ore (coltan)"]
    )

    assert [(i, row.good) for i, row in found] == [
        (0, "Tin ore (cassiterite)"),
        (1, "Tantalum ore (coltan)"),
    ]


def test_derived_rows_name_their_input_country_but_are_not_forced_labour_matches() -> None:
    reference = load_reference("2026.11")
    [batteries] = [r for r in reference.goods["CN"] if r.good == "Lithium-Ion Batteries"]

    assert batteries.derived_input_country == "CD"
    assert reference.forced_labour_goods("CN", ["Lithium-ion batteries"]) == []


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Strawberries", "strawberry"),
        ("Matches", "match"),
        ("Glass", "glass"),
        ("hand-woven", "handwoven"),
    ],
)
def test_good_names_compare_without_plural_or_punctuation(a: str, b: str) -> None:
    assert good_key(a) == good_key(b)


# Currencies at the contract


def test_an_iso_currency_without_a_rate_is_refused_naming_the_edition() -> None:
    with pytest.raises(
        ValidationError, match=r"'XAU' has no exchange rate in reference data edition 2026\.11"
    ):
        TypeAdapter(CurrencyCode).validate_python("XAU")


def test_a_disclosure_wage_in_an_unpriced_currency_is_refused_at_its_field() -> None:
    raw = supplier(wages={"avg_monthly_wage": {"amount": 1, "currency": "XAU"}})

    with pytest.raises(ValidationError) as caught:
        TypeAdapter(Disclosure).validate_python(raw)

    [error] = caught.value.errors()
    assert error["loc"][1:] == ("wages", "avg_monthly_wage", "currency")
    assert "no exchange rate in reference data edition 2026.11" in error["msg"]
