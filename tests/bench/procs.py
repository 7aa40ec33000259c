"""What the running system costs, read from /proc: CPU time and resident memory per component.

A component is a service (``laboursight-<name>``), ``tansu`` or ``mongod``, with every process it
started counted in it, so a service that grows worker processes is still measured whole. Only
descendants of the benchmark's own process are counted: other engineers' systems on the same
machine are not ours to measure.
"""

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
SERVERS = ("tansu", "mongod")
SERVICE_PREFIX = "laboursight-"
# Fields of /proc/<pid>/stat after the command name, counted from `state` (field 3) on.
_PPID, _UTIME, _STIME, _RSS = 4 - 3, 14 - 3, 15 - 3, 24 - 3


@dataclass(frozen=True)
class Row:
    pid: int
    ppid: int
    cpu_s: float
    rss_bytes: int
    argv: tuple[str, ...]


@dataclass(frozen=True)
class Usage:
    cpu_s: float
    rss_bytes: int
    processes: int


def parse_stat(pid: int, stat: str, argv: tuple[str, ...]) -> Row:
    # The command name is in parentheses and may itself hold spaces or parentheses.
    fields = stat.rpartition(")")[2].split()
    return Row(
        pid=pid,
        ppid=int(fields[_PPID]),
        cpu_s=(int(fields[_UTIME]) + int(fields[_STIME])) / CLOCK_TICKS,
        rss_bytes=int(fields[_RSS]) * PAGE_BYTES,
        argv=argv,
    )


def component_of(argv: tuple[str, ...]) -> str | None:
    """``api`` for ``python …/laboursight-api``, ``tansu`` for ``…/tansu-v0.6.0-510f3e2 broker``."""
    program = os.path.basename(argv[0]) if argv else ""
    for server in SERVERS:
        if program == server or program.startswith(f"{server}-"):
            return server
    for arg in argv[:2]:  # the interpreter, then the console script it runs
        name = os.path.basename(arg)
        if name.startswith(SERVICE_PREFIX):
            return name.removeprefix(SERVICE_PREFIX)
    return None


def read_rows(proc: Path = Path("/proc")) -> dict[int, Row]:
    rows: dict[int, Row] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = tuple(a for a in (entry / "cmdline").read_bytes().decode().split("\0") if a)
        except OSError:  # the process ended while we looked
            continue
        rows[int(entry.name)] = parse_stat(int(entry.name), stat, argv)
    return rows


def components(rows: Mapping[int, Row], root: int) -> dict[str, Usage]:
    """Usage per component among the descendants of ``root``; ``root`` itself is ``bench``."""
    children: dict[int, list[int]] = {}
    for row in rows.values():
        children.setdefault(row.ppid, []).append(row.pid)
    totals: dict[str, list[Row]] = {}
    if root in rows:
        totals["bench"] = [rows[root]]

    def walk(pids: Iterable[int], owner: str | None) -> None:
        for pid in pids:
            row = rows[pid]
            name = owner or component_of(row.argv)
            if name is not None:
                totals.setdefault(name, []).append(row)
            walk(children.get(pid, ()), name)

    walk(children.get(root, ()), None)
    return {
        name: Usage(
            cpu_s=sum(r.cpu_s for r in group),
            rss_bytes=sum(r.rss_bytes for r in group),
            processes=len(group),
        )
        for name, group in totals.items()
    }


def sample(root: int | None = None) -> dict[str, Usage]:
    return components(read_rows(), os.getpid() if root is None else root)


def cpu_spent(before: Mapping[str, Usage], after: Mapping[str, Usage]) -> dict[str, float]:
    """CPU seconds each component used between two samples."""
    return {
        name: max(0.0, usage.cpu_s - (before[name].cpu_s if name in before else 0.0))
        for name, usage in after.items()
    }
