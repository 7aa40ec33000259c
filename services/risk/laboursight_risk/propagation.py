"""What one findings event changes: the entity's profile, the far ends of its chain links,
the suppliers whose inheritance follows and the contradictions between the two ends of a link
(sources.py); each change before and after, for the alert policy.

A batch is settled event by event inside one transaction (fold.py), which only loads and saves.
A link is kept at both of its ends, and an event writes every profile whose share of the chain
it changes, so two concurrent batches whose decisions depend on each other write a common
document and the database's write-conflict check makes one of them retry on the other's result.
"""

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, replace

from laboursight_schemas.disclosure import EntityKind
from laboursight_schemas.findings import FindingsComputed

from .chain import declared_links, end_id, far_end, inheritance, replace_declared
from .profile import Profile, disclosed, moves, unknown
from .sources import rejudged

Load = Callable[[EntityKind, Collection[str]], Awaitable[dict[str, Profile]]]


@dataclass(frozen=True)
class Change:
    before: Profile
    after: Profile


@dataclass(frozen=True)
class Outcome:
    """Every profile the event changed, before and after (its version advanced)."""

    changes: tuple[Change, ...]

    @property
    def profiles(self) -> tuple[Profile, ...]:
        return tuple(c.after for c in self.changes)


async def settle(load: Load, *, tenant_id: str, computed: FindingsComputed) -> Outcome:
    """The profiles ``computed`` changes, before and after."""
    kind, entity_id = computed.entity_kind, computed.entity_id

    async def profiles(of: EntityKind, ids: Collection[str]) -> dict[str, Profile]:
        found = await load(of, ids)
        return {i: found.get(i) or unknown(tenant_id, of, i) for i in ids}

    before_entity = (await profiles(kind, [entity_id]))[entity_id]
    if not moves(before_entity, computed):
        return Outcome(())
    declared = declared_links(computed)
    entity = replace_declared(disclosed(before_entity, computed), kind, entity_id, declared)
    far_kind = far_end(kind)
    far_ids = sorted({end_id(k, far_kind) for k in before_entity.links + entity.links})
    before = {(kind, entity_id): before_entity}
    after = {(kind, entity_id): entity}
    for far_id, far in (await profiles(far_kind, far_ids)).items():
        before[(far_kind, far_id)] = far
        after[(far_kind, far_id)] = replace_declared(far, kind, entity_id, declared)

    recruiters = {i: p for (k, i), p in after.items() if k == "recruiter"}
    suppliers = [key for key in after if key[0] == "supplier"]
    missing = {k.recruiter_id for s in suppliers for k in after[s].links} - recruiters.keys()
    recruiters |= await profiles("recruiter", missing)
    for key in suppliers:
        after[key] = replace(after[key], inherited=inheritance(after[key], recruiters))
    after = rejudged(after)

    return Outcome(
        tuple(
            Change(before[key], replace(p, version=before[key].version + 1))
            for key, p in after.items()
            if p != before[key]
        )
    )
