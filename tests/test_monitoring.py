"""The operators' monitoring: the alert rules and the Grafana dashboard name only metrics the
services export, and Prometheus' own promtool accepts the rules, passes their unit tests, accepts
the metrics as exposed and the scrape configuration, which covers every service of the compose
file.

promtool is the project's own copy (`make prom-tool` unpacks it from Debian's prometheus
package into .tools/), else one on PATH; a missing promtool fails these tests, never skips them.
"""

import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY, generate_latest

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "laboursight.json"
PROJECT_PROMTOOL = ROOT / ".tools" / "prometheus" / "usr" / "bin" / "promtool"
METRIC_NAME = re.compile(r"\blaboursight_[a-z0-9_]+\b")
# The sample names Prometheus sees for each kind of metric family prometheus_client exposes.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
}


def metric_modules() -> list[str]:
    """Every module the metrics are declared in: the pipeline's and each service's own."""
    services = sorted(ROOT.glob("services/*/laboursight_*/metrics.py"))
    return ["laboursight_runtime.metrics", *(f"{p.parent.name}.metrics" for p in services)]


@pytest.fixture(scope="module")
def exported() -> set[str]:
    """The name of every sample a service can expose on /metrics, labelled or not yet seen."""
    for module in metric_modules():
        importlib.import_module(module)
    names = set()
    for family in REGISTRY.collect():
        if family.name.startswith("laboursight_"):
            names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    return names


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    executable = str(PROJECT_PROMTOOL) if PROJECT_PROMTOOL.is_file() else shutil.which("promtool")
    if executable is None:
        pytest.fail(
            "promtool is missing, so the alert rules cannot be checked: run `make prom-tool` "
            "(it unpacks promtool from Debian's prometheus package into .tools/)",
            pytrace=False,
        )
    return subprocess.run(
        [executable, *args],
        cwd=RULES.parent,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]


def test_promtool_accepts_the_alert_rules() -> None:
    result = promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_promtool_accepts_the_scrape_configuration_and_its_rules() -> None:
    result = promtool("check", "config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_scrapes_every_service_of_the_compose_file() -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())
    # The long-running services built from the project's image: neither Kafka and MongoDB nor
    # the one-shot topic job (built from it too) serve /metrics.
    ours = {
        f"{name}:8000"
        for name, service in compose["services"].items()
        if service.get("build", {}).get("dockerfile") == "deploy/Dockerfile"
        and service.get("restart") == "unless-stopped"
    }
    [job] = yaml.safe_load(CONFIG.read_text())["scrape_configs"]
    targets = {target for config in job["static_configs"] for target in config["targets"]}
    assert ours
    assert targets == ours


def test_each_alert_fires_on_its_trouble_and_not_on_the_ordinary(exported: set[str]) -> None:
    result = promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    tested = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test["alert_rule_test"]
    }
    assert tested == {rule["alert"] for rule in rules()}, "every alert has a unit test"
    series = METRIC_NAME.findall(RULE_TESTS.read_text())
    assert set(series) <= exported, "the unit tests feed the series the services export"


def test_the_exposed_metrics_pass_promtools_lint(exported: set[str]) -> None:
    result = promtool("check", "metrics", stdin=generate_latest(REGISTRY).decode())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("alert", rules(), ids=lambda rule: str(rule["alert"]))
def test_every_metric_an_alert_names_is_exported(alert: dict[str, Any], exported: set[str]) -> None:
    named = set(METRIC_NAME.findall(alert["expr"]))
    assert named, f"{alert['alert']} names no laboursight metric"
    assert named <= exported, f"{alert['alert']}: not exported: {sorted(named - exported)}"


def test_the_issues_alerts_are_all_there() -> None:
    expressions = " ".join(rule["expr"] for rule in rules())
    for metric in (
        "laboursight_consumer_lag",
        "laboursight_consumer_halted",
        "laboursight_dead_letters_total",
        "laboursight_api_disclosures_redriven_total",
        "laboursight_webhook_dead_total",
    ):
        assert metric in expressions, metric


def test_the_dashboard_is_grafana_json_whose_panels_show_exported_metrics(
    exported: set[str],
) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert all(dashboard[key] for key in ("uid", "title", "schemaVersion", "panels"))
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard["panels"]:
        place = panel["gridPos"]
        assert place["x"] + place["w"] <= 24, f"{panel['title']} is wider than the grid"
        for x in range(place["x"], place["x"] + place["w"]):
            for y in range(place["y"], place["y"] + place["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]
        if panel["type"] != "row":
            refs = [target["refId"] for target in panel["targets"]]
            assert len(refs) == len(set(refs)) > 0, panel["title"]
    for expr in dashboard_expressions():
        named = set(METRIC_NAME.findall(expr))
        assert named, f"names no laboursight metric: {expr}"
        assert named <= exported, f"not exported: {sorted(named - exported)} in {expr}"


def test_the_dashboard_shows_every_metric_an_alert_watches() -> None:
    shown = {name for expr in dashboard_expressions() for name in METRIC_NAME.findall(expr)}
    watched = {name for rule in rules() for name in METRIC_NAME.findall(rule["expr"])}
    assert watched <= shown, sorted(watched - shown)
