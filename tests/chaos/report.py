"""The suite's one table: a row per fault, the counts summed over its trials."""

import statistics
from collections.abc import Sequence

from .trial import TrialResult

COLUMNS = (
    "fault",
    "trials",
    "accepted",
    "503",
    "unanswered",
    "lost",
    "duplicated",
    "left accepted",
    "503 landed",
    "recovery s (median / max)",
)


def _recovery(results: Sequence[TrialResult]) -> str:
    times = [r.recovery_s for r in results if r.recovery_s is not None]
    never = len(results) - len(times)
    text = f"{statistics.median(times):.1f} / {max(times):.1f}" if times else "-"
    return f"{text} ({never} never)" if never else text


def table(results: Sequence[TrialResult], faults: Sequence[str]) -> str:
    rows: list[tuple[str, ...]] = [COLUMNS]
    for fault in faults:
        mine = [r for r in results if r.fault == fault]
        if not mine:
            continue
        rows.append(
            (
                fault,
                str(len(mine)),
                *(
                    str(sum(getattr(r.verdict, name) for r in mine))
                    for name in (
                        "accepted",
                        "refused",
                        "unanswered",
                        "lost",
                        "duplicated",
                        "left_accepted",
                        "landed_503",
                    )
                ),
                _recovery(mine),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def trial_line(result: TrialResult) -> str:
    v = result.verdict
    recovery = "never" if result.recovery_s is None else f"{result.recovery_s:.1f} s"
    return (
        f"{result.fault} trial {result.trial}: killed at {result.kill_at_s:.1f} s "
        f"({result.killed_wall:%H:%M:%S}), down "
        f"{result.down_s:.1f} s; accepted {v.accepted}, 503 {v.refused}, unanswered "
        f"{v.unanswered}, other {v.other}; lost {v.lost}, duplicated {v.duplicated}, repeated webhook-ids {v.repeated}, left "
        f"accepted {v.left_accepted}, 503 landed {v.landed_503}; recovery {recovery}"
    )
