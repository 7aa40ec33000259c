"""ISO 3166-1 alpha-2 codes for the English country names the DOL list uses."""

import unicodedata

import pycountry

# Names pycountry cannot resolve (or that it would resolve only by a fuzzy search).
_DOL_NAMES: dict[str, str] = {
    "Burma": "MM",
    "Congo, Democratic Republic of the": "CD",
    "Russia": "RU",
    "Turkey (Türkiye)": "TR",
}


def country_code(name: str) -> str:
    """The alpha-2 code of ``name``; a name nobody can resolve is an error, never a guess."""
    name = unicodedata.normalize("NFC", name.strip())
    if name in _DOL_NAMES:
        return _DOL_NAMES[name]
    try:
        country = pycountry.countries.lookup(name)
    except LookupError:
        raise ValueError(
            f"country name {name!r} has no ISO 3166-1 code: add it to countries._DOL_NAMES"
        ) from None
    code: str = country.alpha_2
    return code
