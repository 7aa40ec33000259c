"""Reading the stack's CPU and memory from /proc, each process counted in its component."""

import subprocess
import time
import uuid

from tests.bench import procs
from tests.bench.procs import Row, Usage, component_of, components, cpu_spent, parse_stat


def test_a_stat_line_is_read_past_a_command_name_with_spaces_and_parentheses() -> None:
    fields = ["S", "41", *["0"] * 9, "250", "50", *["0"] * 8, "10"]
    row = parse_stat(42, f"42 (odd (name) x) {' '.join(fields)}", ("odd",))
    assert row.ppid == 41
    assert row.cpu_s == 300 / procs.CLOCK_TICKS
    assert row.rss_bytes == 10 * procs.PAGE_BYTES


def test_components_are_named_by_the_program_they_run() -> None:
    assert component_of(("/venv/bin/python", "/venv/bin/laboursight-risk")) == "risk"
    assert component_of(("/root/.calfkit/bin/tansu-v0.6.0-510f3e2", "broker")) == "tansu"
    assert component_of(("/wheel/bin/mongod", "--replSet", "rs0")) == "mongod"
    assert component_of(("/usr/bin/python3", "-m", "pytest")) is None
    assert component_of(()) is None


def _row(pid: int, ppid: int, cpu: float, rss: int, *argv: str) -> Row:
    return Row(pid=pid, ppid=ppid, cpu_s=cpu, rss_bytes=rss, argv=argv)


def test_a_component_counts_every_process_it_started_and_strangers_are_left_out() -> None:
    rows = {
        r.pid: r
        for r in (
            _row(1, 0, 9.0, 900, "init"),
            _row(10, 1, 1.0, 100, "python", "bench"),
            _row(11, 10, 2.0, 200, "/bin/mongod"),
            _row(12, 10, 3.0, 300, "python", "/venv/bin/laboursight-api"),
            _row(13, 12, 0.5, 50, "python", "-c", "worker"),
            _row(14, 10, 0.1, 10, "sleep", "1"),
            _row(20, 1, 5.0, 500, "/elsewhere/mongod"),  # another engineer's
        )
    }
    assert components(rows, root=10) == {
        "bench": Usage(cpu_s=1.0, rss_bytes=100, processes=1),
        "mongod": Usage(cpu_s=2.0, rss_bytes=200, processes=1),
        "api": Usage(cpu_s=3.5, rss_bytes=350, processes=2),
    }


def test_cpu_spent_is_the_difference_and_a_new_component_counts_whole() -> None:
    before = {"api": Usage(1.0, 0, 1)}
    after = {"api": Usage(1.25, 0, 1), "risk": Usage(0.5, 0, 1)}
    assert cpu_spent(before, after) == {"api": 0.25, "risk": 0.5}


def test_a_real_child_process_is_found_under_its_parent() -> None:
    name = f"probe{uuid.uuid4().hex[:8]}"
    child = subprocess.Popen(["bash", "-c", f"exec -a /bin/laboursight-{name} sleep 30"])
    try:
        deadline = time.monotonic() + 10
        while name not in procs.sample() and time.monotonic() < deadline:
            time.sleep(0.01)
        found = procs.sample()
    finally:
        child.kill()
        child.wait()
    assert found[name].processes == 1
    assert found[name].rss_bytes > 0
    assert found["bench"].cpu_s > 0
