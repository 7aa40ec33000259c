"""`laboursight-local`: run the embedded broker and database until Ctrl-C or SIGTERM."""

import argparse
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import NoReturn

from laboursight_runtime.local.servers import LocalServers, LocalServersError


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    # A second Ctrl-C must not cut the orderly stop short (stop is bounded by its own timeout).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="laboursight-local",
        description="Start tansu (Kafka protocol) and mongod (replica set rs0) on loopback, "
        "print the environment the services need, and run until Ctrl-C or SIGTERM.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep MongoDB's data and the server logs here across runs (default: a temporary "
        "folder, removed on exit); the broker is memory-only and starts empty every time",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    try:
        with LocalServers(args.data_dir) as servers:
            for key, value in servers.environment().items():
                print(f"export {key}={shlex.quote(value)}", flush=True)
            print(
                f"# up in {time.monotonic() - started:.2f} s; logs in {servers.data_dir}; "
                "Ctrl-C stops the servers",
                file=sys.stderr,
                flush=True,
            )
            while True:
                signal.pause()
    except KeyboardInterrupt:
        print("# servers stopped", file=sys.stderr)
    except LocalServersError as exc:
        sys.exit(f"laboursight-local: {exc}")
