"""`make run`: the whole system on the embedded local servers, with a demo tenant and webhook.

Starts tansu and mongod, every service as its own process, a webhook receiver that verifies and
prints alerts, then submits the sample disclosures in deploy/local/samples. Ctrl-C stops it all.
"""

import json
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from laboursight_runtime.local.receiver import WebhookReceiver
from laboursight_runtime.local.servers import LocalServers
from laboursight_runtime.local.stack import Stack

SAMPLES = Path(__file__).parent / "samples"
TENANT = "dev"


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


def interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, interrupt)  # a supervisor's stop is as clean as Ctrl-C
    started = time.monotonic()
    receiver = WebhookReceiver(on_alert=print_alert)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="laboursight-run-") as scratch,
            LocalServers() as servers,
        ):
            say(
                f"Kafka (tansu) at {servers.kafka_bootstrap_servers}, MongoDB at {servers.mongodb_uri}"
            )
            with Stack(servers.environment(), Path(scratch) / "logs") as stack:
                api = stack.url("api")
                say(
                    f"services ready in {time.monotonic() - started:.1f} s; API at {api} "
                    f"(OpenAPI: {api}/docs); service logs in {scratch}/logs"
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
                response = httpx.post(
                    f"{api}/v1/subscriptions",
                    json={"url": receiver.url, "min_risk_level": "high"},
                    headers={"Authorization": f"Bearer {analyst}"},
                )
                response.raise_for_status()
                receiver.secret = response.json()["secret"]
                say(f"webhook receiver at {receiver.url} subscribed for high and critical alerts")
                submit_samples(api, submitter)
                say("waiting for alerts; press Ctrl-C to stop everything")
                while True:
                    time.sleep(1)
    except KeyboardInterrupt:
        say("stopping...")
    finally:
        receiver.stop()
    say("stopped; nothing left running")


if __name__ == "__main__":
    main()
