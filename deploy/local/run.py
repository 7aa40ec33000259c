"""`make run`: the whole system on the embedded local servers, with a demo tenant and webhook.

Starts tansu and mongod, every service as its own process, a webhook receiver that verifies and
prints alerts, then, on a fresh start, submits the sample disclosures in deploy/local/samples.
Ctrl-C stops it all. MongoDB's data and every log are kept in one folder (`.run/`, or
`LABOURSIGHT_RUN_DIR`), so the next `make run` starts where this one stopped; `make run
FRESH=1` (`--fresh`) deletes the folder first. Kafka (tansu) keeps memory only: what it held is
re-driven from MongoDB's outboxes, the durable truth.
"""

import argparse
import json
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import httpx

from laboursight_runtime.local.receiver import WebhookReceiver
from laboursight_runtime.local.servers import LocalServers
from laboursight_runtime.local.stack import Stack

SAMPLES = Path(__file__).parent / "samples"
DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / ".run"
TENANT = "dev"
# The demo's own subscription, so that a later run replaces it rather than piling up
# subscriptions to receivers that are gone.
DEMO_STATE = "demo.json"


def say(message: str) -> None:
    print(f"[laboursight] {message}", flush=True)


def print_alert(event: dict[str, Any], headers: dict[str, str]) -> None:
    alert = event["data"]
    say(
        f"ALERT received (signature verified, webhook-id {headers.get('webhook-id')}):\n"
        f"    {alert['entity_kind']} {alert['entity_id']}: {alert['risk_level'].upper()} "
        f"(score {alert['score']}), rule set {alert['rule_set_version']}\n"
        f"    indicators: {', '.join(alert['indicators'])}\n"
        f"    {alert['summary']}"
    )


def submit_samples(api: str, submitter: str) -> None:
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {submitter}"}) as client:
        for path in sorted(SAMPLES.glob("*.json")):
            response = client.post("/v1/disclosures", json=json.loads(path.read_text()))
            say(f"submitted {path.name}: {response.status_code} {response.text}")
        bad = json.loads((SAMPLES / "01-clean-supplier.json").read_text())
        bad["working_time"]["avg_weekly_hours"] = -5
        response = client.post("/v1/disclosures", json=bad)
        say(f"submitted a bad disclosure on purpose: {response.status_code} {response.text}")


def subscribe(api: str, analyst: str, receiver: WebhookReceiver, state: Path) -> None:
    """Subscribes ``receiver`` for high and critical alerts, in place of an earlier run's."""
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {analyst}"}) as client:
        if state.exists():
            earlier = json.loads(state.read_text())["subscription_id"]
            client.delete(f"/v1/subscriptions/{earlier}")
        response = client.post(
            "/v1/subscriptions", json={"url": receiver.url, "min_risk_level": "high"}
        )
        response.raise_for_status()
    receiver.secret = response.json()["secret"]
    state.write_text(json.dumps({"subscription_id": response.json()["subscription_id"]}))


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fresh", action="store_true", help="delete the kept folder first")
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    signal.signal(signal.SIGTERM, interrupt)  # a supervisor's stop is as clean as Ctrl-C
    started = time.monotonic()
    folder = Path(os.environ.get("LABOURSIGHT_RUN_DIR") or DEFAULT_FOLDER)
    if args.fresh:
        shutil.rmtree(folder, ignore_errors=True)
    fresh = not (folder / "mongodb").exists()
    receiver = WebhookReceiver(on_alert=print_alert)
    try:
        with LocalServers(folder) as servers:
            say(
                f"Kafka (tansu) at {servers.kafka_bootstrap_servers}, MongoDB at {servers.mongodb_uri}"
            )
            with Stack(servers.environment(), folder / "logs") as stack:
                api = stack.url("api")
                kept = "a fresh start" if fresh else "the data of earlier runs kept"
                say(
                    f"services ready in {time.monotonic() - started:.1f} s, {kept}; API at {api} "
                    f"(OpenAPI: {api}/docs); data and service logs in {folder} "
                    "(make run FRESH=1 starts afresh)"
                )
                samples = [json.loads(p.read_text()) for p in sorted(SAMPLES.glob("*.json"))]
                entities = [
                    s["supplier"]["supplier_id"]
                    if s["kind"] == "supplier"
                    else s["recruiter"]["recruiter_id"]
                    for s in samples
                ]
                submitter = stack.create_key(TENANT, "submitter", entities)
                analyst = stack.create_key(TENANT, "analyst")
                say(
                    f"tenant '{TENANT}' API keys:\n    submitter ({', '.join(entities)}): {submitter}\n"
                    f"    analyst: {analyst}"
                )
                receiver.start()
                subscribe(api, analyst, receiver, folder / DEMO_STATE)
                say(f"webhook receiver at {receiver.url} subscribed for high and critical alerts")
                say(f"dashboard at {api}/dashboard: sign in with the analyst key {analyst}")
                if fresh:
                    submit_samples(api, submitter)
                else:
                    say("samples were submitted on the first run; their alerts are in the api")
                say("waiting for alerts; press Ctrl-C to stop everything")
                while True:
                    time.sleep(1)
    except KeyboardInterrupt:
        say("stopping...")
    finally:
        receiver.stop()
    say(f"stopped; nothing left running; data kept in {folder}")


if __name__ == "__main__":
    main()
