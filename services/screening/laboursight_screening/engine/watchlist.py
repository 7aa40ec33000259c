"""The watchlist context of a disclosure: one ``watchlist_match`` per possible match, pure.

A match is context for an analyst's review: weak, of low severity, kept apart from the
findings and never judged (engine.py adds it after the judgement), so it moves no level or
score. Its evidence names the disclosure fields that matched; its ``watchlist`` the list, the
edition, the entry and each field's score.
"""

from collections.abc import Sequence

from laboursight_schemas.disclosure import RecruiterDisclosure, SupplierDisclosure
from laboursight_screening.watchlists.edition import Watchlist
from laboursight_screening.watchlists.matching import EntryMatch, Party, match

from .outcome import Evidence, Finding, WatchlistHit
from .ruleset import WatchlistScreening


def party(disclosure: SupplierDisclosure | RecruiterDisclosure) -> Party:
    """The supplier or recruiter a disclosure is about, as the matching reads it."""
    if isinstance(disclosure, SupplierDisclosure):
        s = disclosure.supplier
        return Party("$.supplier", s.name, tuple(s.aliases or ()), s.address, s.country)
    r = disclosure.recruiter
    return Party("$.recruiter", r.name, tuple(r.aliases or ()), r.address, r.country)


def watchlist_context(
    disclosure: SupplierDisclosure | RecruiterDisclosure,
    watchlists: Sequence[Watchlist],
    screening: WatchlistScreening,
    rule_set_version: str,
    reference_edition: str,
) -> tuple[Finding, ...]:
    """A context finding for every entry of ``watchlists`` the disclosure's entity possibly
    is, list by list in the order given, best match first within a list."""
    who = party(disclosure)
    if who.name is None and not who.aliases:
        return ()
    return tuple(
        _finding(watchlist, found, rule_set_version, reference_edition)
        for watchlist in watchlists
        for found in match(who, watchlist.index, screening.threshold, screening.address_threshold)
    )


def _finding(
    watchlist: Watchlist, found: EntryMatch, rule_set_version: str, reference_edition: str
) -> Finding:
    entry = found.entry
    rule_id = f"watchlist:{watchlist.list_id}:{entry.reference}"
    evidence = tuple(
        Evidence(
            m.field,
            m.value,
            rule_id,
            f"Possible match on {watchlist.title} (edition {watchlist.edition}) — review: "
            f"{m.field} resembles the {m.entry_field} of entry {entry.reference} "
            f"({m.entry_value!r}, listed on {entry.listed_on.isoformat()}), score {m.score:g}. "
            "A resemblance is not evidence that this is the listed entity.",
        )
        for m in found.matched
    )
    hit = WatchlistHit(
        watchlist.list_id,
        watchlist.title,
        watchlist.edition,
        entry.reference,
        entry.name,
        entry.country,
        entry.listed_on,
        found.score,
        found.country_agrees,
        found.matched,
    )
    return Finding(
        "watchlist_match", "weak", "low", evidence, rule_set_version, reference_edition, hit
    )
