"""`make containers-demo`: the containerised stack under podman, one disclosure to a signed webhook.

Starts podman's Docker-compatible API on a project socket, brings up docker-compose.yml with
deploy/compose.local-servers.yml (the images of `make images`), waits for the api's /readyz,
creates API keys inside the api container, subscribes a webhook receiver on the host (on the
compose network's gateway, which containers reach as host.containers.internal), submits the
high-risk sample disclosure, verifies the webhook's Standard Webhooks signature, then runs
`down -v` and checks that no container, volume or network of the project is left. Prints every
step with its time; exits 1 when a step fails, after `down -v` in every case.

podman here has no systemd to run health checks on their schedule, and docker-compose starts a
service only once what it depends on reports healthy: a thread runs them (`podman healthcheck
run`) every second while the project is up.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from laboursight_runtime.local.receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILES = (ROOT / "docker-compose.yml", ROOT / "deploy" / "compose.local-servers.yml")
SAMPLE = ROOT / "deploy" / "local" / "samples" / "02-high-risk-supplier.json"
PROJECT = "laboursight-demo"
TENANT = "demo"
READY_TIMEOUT_S = 120.0
WEBHOOK_TIMEOUT_S = 60.0


class DemoFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"[containers] {message}", flush=True)


@contextmanager
def step(name: str, timings: dict[str, float]) -> Iterator[None]:
    started = time.monotonic()
    yield
    timings[name] = time.monotonic() - started
    say(f"{name}: {timings[name]:.1f} s")


def podman(*args: str) -> str:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DemoFailed(f"podman {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


@contextmanager
def podman_service(socket_path: Path) -> Iterator[str]:
    """podman's Docker-compatible API on `socket_path`, stopped on exit; yields its DOCKER_HOST."""
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    socket_path.unlink(missing_ok=True)
    url = f"unix://{socket_path}"
    with open(socket_path.with_suffix(".log"), "wb") as log:
        service = subprocess.Popen(
            ["podman", "system", "service", "--time=0", url],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        with httpx.Client(transport=httpx.HTTPTransport(uds=str(socket_path))) as client:
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.get("http://podman/_ping").raise_for_status()
                    break
                except httpx.HTTPError as exc:
                    if time.monotonic() > deadline or service.poll() is not None:
                        raise DemoFailed(f"podman system service did not answer on {url}") from exc
                    time.sleep(0.1)
        yield url
    finally:
        service.terminate()
        service.wait(10)


class HealthChecks(threading.Thread):
    """Runs the health check of every running container of the project, once a second."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopped = threading.Event()

    def run(self) -> None:
        label = f"label=com.docker.compose.project={PROJECT}"
        while not self.stopped.wait(1.0):
            for container in podman("ps", "--quiet", "--filter", label).split():
                # A container without a health check (the topics job) fails this harmlessly.
                subprocess.run(["podman", "healthcheck", "run", container], capture_output=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def compose(env: dict[str, str], *args: str) -> str:
    files = [arg for path in COMPOSE_FILES for arg in ("--file", str(path))]
    result = subprocess.run(
        ["docker-compose", "--project-name", PROJECT, "--project-directory", str(ROOT), *files,
         *args],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise DemoFailed(f"docker-compose {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def create_key(env: dict[str, str], role: str, *extra: str) -> str:
    out = compose(env, "exec", "-T", "api", "laboursight-api", "create-key", "--tenant", TENANT,
                  "--role", role, "--json", *extra)  # fmt: skip
    return str(json.loads(out)["key"])


def wait_ready(api: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(base_url=api, timeout=5) as client:
        while True:
            try:
                if client.get("/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise DemoFailed(f"the api at {api} was not ready within {READY_TIMEOUT_S:g} s")
            time.sleep(0.5)


def through_the_stack(env: dict[str, str], api: str, timings: dict[str, float]) -> None:
    """From `up` to a verified webhook; the caller brings the project down."""
    with step(
        "docker-compose up -d (stand-ins healthy, topics created, services started)", timings
    ):
        compose(env, "up", "--detach", "--no-build")
    with step("api ready (/readyz)", timings):
        wait_ready(api)
    with step("two API keys created in the api container", timings):
        analyst = create_key(env, "analyst")
        submitter = create_key(env, "submitter", "--entity", "SUP-GLOVES-07")
    network = json.loads(podman("network", "inspect", f"{PROJECT}_default"))[0]
    gateway = network["subnets"][0]["gateway"]
    receiver = WebhookReceiver(host=gateway)
    receiver.start()
    try:
        url = receiver.url_at("host.containers.internal")
        with httpx.Client(base_url=api, timeout=10) as client:
            response = client.post(
                "/v1/subscriptions",
                json={"url": url, "min_risk_level": "high"},
                headers={"Authorization": f"Bearer {analyst}"},
            )
            if response.status_code != 201:
                raise DemoFailed(f"subscription refused: {response.status_code} {response.text}")
            receiver.secret = response.json()["secret"]
            say(f"subscribed {url} (the host, at the gateway {gateway})")
            with step("disclosure submitted -> signed webhook received", timings):
                response = client.post(
                    "/v1/disclosures",
                    json=json.loads(SAMPLE.read_text()),
                    headers={"Authorization": f"Bearer {submitter}"},
                )
                if response.status_code != 202:
                    raise DemoFailed(f"disclosure refused: {response.status_code} {response.text}")
                say(f"submitted {SAMPLE.name}: 202 {response.json()['disclosure_id']}")
                try:
                    receiver.wait_for(lambda _: True, WEBHOOK_TIMEOUT_S)
                except TimeoutError:
                    raise DemoFailed(
                        f"no webhook with a valid signature within {WEBHOOK_TIMEOUT_S:g} s "
                        f"({receiver.rejected} refused for a wrong signature)"
                    ) from None
        event, headers = receiver.accepted[0]
        alert = event["data"]
        say(
            f"webhook {headers['webhook-id']}: signature verified (standardwebhooks); "
            f"{event['type']} {alert['alert_type']} for {alert['entity_kind']} "
            f"{alert['entity_id']}, {alert['risk_level']} (score {alert['score']})"
        )
    finally:
        receiver.stop()


def leftovers() -> list[str]:
    """Containers, volumes and networks of the project that podman still has."""
    found = []
    for kind, listing in (
        ("container", ["ps", "--all", "--format", "{{.Names}}"]),
        ("volume", ["volume", "ls", "--format", "{{.Name}}"]),
        ("network", ["network", "ls", "--format", "{{.Name}}"]),
    ):
        found += [f"{kind} {name}" for name in podman(*listing).split() if name.startswith(PROJECT)]
    return found


def main() -> int:
    timings: dict[str, float] = {}
    started = time.monotonic()
    socket_path = Path(os.environ.get("PODMAN_SOCKET", ROOT / ".tools/containers/podman.sock"))
    failure: str | None = None
    with podman_service(socket_path) as docker_host:
        api_port = free_port()
        env = {**os.environ, "DOCKER_HOST": docker_host, "API_PORT": str(api_port)}
        say(
            f"podman's API on {docker_host} (log: {socket_path.with_suffix('.log')}); "
            f"the api on http://127.0.0.1:{api_port}"
        )
        checks = HealthChecks()
        checks.start()
        try:
            through_the_stack(env, f"http://127.0.0.1:{api_port}", timings)
        except DemoFailed as exc:
            failure = str(exc)
        finally:
            with step("docker-compose down -v", timings):
                compose(env, "down", "--volumes", "--remove-orphans")
            checks.stopped.set()
            checks.join()
    left = leftovers()
    say(f"left behind: {', '.join(left) if left else 'no container, volume or network'}")
    say(f"total: {time.monotonic() - started:.1f} s")
    if failure or left:
        say(f"FAILED: {failure or 'the project was not removed'}")
        return 1
    say("OK: one disclosure through the containerised stack became a verified signed webhook")
    return 0


if __name__ == "__main__":
    sys.exit(main())
