"""A replay's databases and what is in them.

A replay ``R`` of the database ``D`` lives in ``D_replay_R`` (the screening replay's findings,
the risk replay's entities and alerts, the exports the diff reads) and ``D_replay_R_recorded``
(the recorded history folded again). Nothing of a replay is anywhere else, so dropping the two
removes it whole.

The contract between the screening replay (it writes ``replay`` and ``replay_findings``), the
risk replay (``replay_alert_events``, ``replay_entities`` and the recorded fold) and
``laboursight-replay`` (it reads them all), which share no code but this package and the runtime.
"""

import re
from typing import Final

REPLAY: Final = "replay"
REPLAY_FINDINGS: Final = "replay_findings"
REPLAY_FAILURES: Final = "replay_failures"
REPLAY_ALERT_EVENTS: Final = "replay_alert_events"
REPLAY_ENTITIES: Final = "replay_entities"
META_ID: Final = "replay"
REPLAY_ID_PATTERN: Final = r"[a-z0-9][a-z0-9-]{0,31}"
RECORDED_SUFFIX: Final = "_recorded"
# MongoDB refuses longer database names; the recorded history's is the longest.
MAX_DATABASE_NAME: Final = 63


def replay_database(database: str, replay_id: str) -> str:
    """The database of replay ``replay_id`` of ``database``; raises ``ValueError`` for what is
    not a replay id, or one too long for MongoDB."""
    if not re.fullmatch(REPLAY_ID_PATTERN, replay_id):
        raise ValueError(
            f"replay id {replay_id!r} must be 1-32 lower-case letters, digits or '-', "
            "starting with a letter or digit"
        )
    name = f"{database}_replay_{replay_id}"
    if len(name + RECORDED_SUFFIX) > MAX_DATABASE_NAME:
        raise ValueError(f"replay id {replay_id!r} is too long for database {database!r}")
    return name


def databases_of(database: str, replay_id: str) -> tuple[str, str]:
    """The replay's database and its recorded history's."""
    main = replay_database(database, replay_id)
    return main, main + RECORDED_SUFFIX


def replay_id_of(database: str, name: str) -> str | None:
    """The replay id whose main database is ``name``, or None."""
    match = re.fullmatch(re.escape(f"{database}_replay_") + f"({REPLAY_ID_PATTERN})", name)
    return None if match is None else match.group(1)
