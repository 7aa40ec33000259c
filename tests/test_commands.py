"""Every console script behaves as a command.

The scripts are read from the ``[project.scripts]`` of every workspace member, so a new one is
covered as soon as it is declared. Each is run as a subprocess from the virtual environment:

- ``--help`` and ``-h`` print usage and exit 0 without side effects: nothing written to the
  working folder, no server contacted (the environment points at a closed port, and a command
  that tried to serve or connect would fail or time out instead of exiting 0);
- a bad argument gives argparse's usage and one error line, exit 2;
- a server that cannot be reached gives one line naming it, a non-zero exit, no traceback.

No Kafka or MongoDB is needed.
"""

import os
import re
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SNAPSHOT_DIR = ROOT / "schemas" / "jsonschema"
# Commands that must exist whatever else is added.
KNOWN_SCRIPTS = frozenset(
    {
        "laboursight-schemas",
        "laboursight-topics",
        "laboursight-local",
        "laboursight-api",
        "laboursight-screening",
        "laboursight-risk",
        "laboursight-notify",
        "laboursight-rules",
    }
)
TIMEOUT_S = 60


def _toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def workspace_pyprojects() -> list[Path]:
    """The root pyproject.toml and that of every member of the uv workspace."""
    root = ROOT / "pyproject.toml"
    members: list[str] = _toml(root)["tool"]["uv"]["workspace"]["members"]
    return [root, *sorted({p for m in members for p in ROOT.glob(f"{m}/pyproject.toml")})]


def console_scripts() -> list[str]:
    names: set[str] = set()
    for path in workspace_pyprojects():
        names.update(_toml(path).get("project", {}).get("scripts", {}))
    return sorted(names)


SCRIPTS = console_scripts()


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound for the whole module, never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port


@pytest.fixture
def environment(closed_port: int) -> dict[str, str]:
    """Every server the commands know of is a closed port: a connection attempt cannot succeed."""
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port}",
        "MONGODB_URI": f"mongodb://127.0.0.1:{closed_port}/?replicaSet=rs0",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(closed_port),
    }


def run(
    script: str, *args: str, cwd: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    executable = BIN / script
    assert executable.is_file(), f"{executable} is missing: run `make venv` (uv sync)"
    return subprocess.run(
        [str(executable), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )


def _files(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def _subcommands(usage: str) -> list[str]:
    """The choices of the first ``{a,b,...}`` group of a usage text: the subcommands."""
    match = re.search(r"\{([\w,-]+)\}", usage)
    return match.group(1).split(",") if match else []


def test_the_known_commands_are_declared() -> None:
    assert set(SCRIPTS) >= KNOWN_SCRIPTS


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("script", SCRIPTS)
def test_help_prints_usage_and_does_nothing_else(
    script: str, flag: str, tmp_path: Path, environment: dict[str, str]
) -> None:
    snapshot = _files(SNAPSHOT_DIR)
    done = run(script, flag, cwd=tmp_path, env=environment)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {script}"), done.stdout
    # A description follows the usage: more than the bare list of options.
    assert len(done.stdout.split("\n\n")) >= 3, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    # No side effects: nothing written where it ran (e.g. a folder named `--help`), nor to the
    # committed schema snapshot.
    assert list(tmp_path.iterdir()) == []
    assert _files(SNAPSHOT_DIR) == snapshot


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_subcommand_has_help(
    script: str, tmp_path: Path, environment: dict[str, str]
) -> None:
    usage = run(script, "--help", cwd=tmp_path, env=environment).stdout
    for subcommand in _subcommands(usage.split("\n\n")[0]):
        done = run(script, subcommand, "--help", cwd=tmp_path, env=environment)
        assert done.returncode == 0, (subcommand, done.stderr)
        assert done.stdout.startswith(f"usage: {script} {subcommand}"), done.stdout
        assert "Traceback" not in done.stderr, done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_bad_argument_is_a_usage_error(
    script: str, tmp_path: Path, environment: dict[str, str]
) -> None:
    done = run(script, "--no-such-option", cwd=tmp_path, env=environment)

    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines, "no error message"
    assert lines[0].startswith(f"usage: {script}"), done.stderr
    # The usage (which may wrap) and then exactly one error line.
    assert re.fullmatch(rf"{re.escape(script)}: error: .+", lines[-1]), done.stderr
    assert sum("error" in line for line in lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("command", "server"),
    [
        (["laboursight-topics"], "Kafka"),
        (
            [
                "laboursight-api",
                "create-key",
                "--tenant",
                "t",
                "--role",
                "admin",
                "--timeout",
                "0.5",
            ],
            "MongoDB",
        ),
    ],
    ids=["topics", "api-create-key"],
)
def test_an_unreachable_server_is_one_line(
    command: list[str],
    server: str,
    closed_port: int,
    tmp_path: Path,
    environment: dict[str, str],
) -> None:
    done = run(*command, cwd=tmp_path, env=environment)

    assert done.returncode != 0
    assert done.stdout == ""
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    (line,) = lines
    assert line.startswith(f"{command[0]}"), line
    assert "cannot reach" in line, line
    assert server in line, line
    assert f"127.0.0.1:{closed_port}" in line, line
