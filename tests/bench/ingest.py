"""The batch-ingest phase of the system bench: uploads of JSON Lines through
``POST /v1/disclosures:batch``, timed to accepted and then to findings.

Accepted is the api's own word: each batch's ``finished_at`` (the api's clock, on this machine)
once every line is stored or rejected; the chain is timed by the findings watcher, from the
first upload to the last line's findings. CPU is read per component over the same windows:
the api's per line accepted, and every process's per line screened.
"""

import asyncio
import json
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import httpx

from tests.bench import procs
from tests.bench.corpus import corpus
from tests.bench.load import api_client
from tests.bench.phases import Bench, Tenant, until
from tests.bench.workload import Raw, bind

# Its own corpus, apart from the other phases' (whose seed the command line sets).
SEED = 8
POLL_S = 0.05
_JSONL = {"content-type": "application/x-ndjson"}


@dataclass(frozen=True)
class IngestPlan:
    """``upload_lines`` stays under the api's default 1 MiB body limit (about 1 KiB a line)."""

    lines: int = 20_000
    upload_lines: int = 500
    concurrent_uploads: int = 4
    accept_deadline_s: float = 60.0
    findings_deadline_s: float = 60.0

    def scaled(self, factor: float) -> "IngestPlan":
        if factor == 1:
            return self
        return replace(
            self,
            lines=max(10, round(self.lines * factor)),
            accept_deadline_s=max(5.0, self.accept_deadline_s * factor),
            findings_deadline_s=max(5.0, self.findings_deadline_s * factor),
        )


def bodies(count: int, entity_ids: Collection[str]) -> list[Raw]:
    """``count`` disclosures, each for one of ``entity_ids`` (those the submitter may send)."""
    made = bind([raw for _, raw in corpus(count, SEED)], "ing").bodies
    pools = {
        prefix: sorted(i for i in entity_ids if i.startswith(prefix)) for prefix in ("SUP", "REC")
    }
    sendable = [body for body in made if pools[_prefix(body)]]
    for index, body in enumerate(sendable):
        pool, kind = pools[_prefix(body)], body["kind"]
        body[kind][f"{kind}_id"] = pool[index % len(pool)]
    return sendable


def _prefix(body: Raw) -> str:
    return "SUP" if body["kind"] == "supplier" else "REC"


def uploads(made: Sequence[Raw], size: int) -> list[bytes]:
    lines = [json.dumps(body).encode() + b"\n" for body in made]
    return [b"".join(lines[i : i + size]) for i in range(0, len(lines), size)]


async def phase(
    bench: Bench, tenant: Tenant, entity_ids: Collection[str], plan: IngestPlan
) -> dict[str, Any]:
    """Send every upload, ``concurrent_uploads`` at a time; wait for accepted, then findings."""
    files = uploads(bodies(plan.lines, entity_ids), plan.upload_lines)
    cpu_before = procs.sample()
    started = time.time()
    async with api_client(bench.api, tenant.submitter, plan.concurrent_uploads) as client:
        slots = asyncio.Semaphore(plan.concurrent_uploads)
        deadline = bench.budget.deadline(plan.accept_deadline_s)
        batches = await asyncio.gather(*(_send(client, slots, f, deadline) for f in files))
        cpu_accepted = procs.sample()
        finished = [b for b in batches if b["status"] == "done"]
        accepted = [d for b in finished for d in await _accepted(client, b)]
    bench.track(tenant, accepted)
    accept_s = max((_epoch(b["finished_at"]) for b in finished), default=time.time()) - started
    await until(
        lambda: bench.watcher.count(tenant.name, accepted) == len(accepted),
        bench.budget.deadline(plan.findings_deadline_s),
    )
    screened = bench.watcher.seen(tenant.name)
    done = [screened[d] for d in accepted if d in screened]
    chain_s = (max(done) if len(done) == len(accepted) else time.time()) - started
    cpu_api = procs.cpu_spent(cpu_before, cpu_accepted).get("api", 0.0)
    cpu_all = procs.cpu_spent(cpu_before, procs.sample())
    lines = [b["lines"] for b in batches]
    return {
        "lines": sum(counts["total"] for counts in lines),
        "uploads": len(files),
        "lines_per_upload": plan.upload_lines,
        "concurrent_uploads": plan.concurrent_uploads,
        "accepted": sum(counts["accepted"] for counts in lines),
        "rejected": sum(counts["rejected"] for counts in lines),
        "uploads_unfinished": len(batches) - len(finished),
        "accept_s": accept_s,
        "accepted_per_s": len(accepted) / accept_s if accept_s > 0 else None,
        "api_cpu_ms_per_line": cpu_api * 1000 / len(accepted) if accepted else None,
        "screened": len(done),
        "chain_complete": len(done) == len(accepted),
        "to_findings_s": chain_s,
        "chain_per_s": len(done) / chain_s if done else None,
        "cpu_ms_per_disclosure": (
            sum(v for k, v in cpu_all.items() if k != "bench") * 1000 / len(done) if done else None
        ),
    }


async def _send(
    client: httpx.AsyncClient, slots: asyncio.Semaphore, upload: bytes, deadline: float
) -> dict[str, Any]:
    """The batch once done (or as it stood at the deadline)."""
    async with slots:
        answer = await client.post("/v1/disclosures:batch", content=upload, headers=_JSONL)
        if answer.status_code != 202:
            raise RuntimeError(f"an upload was refused: {answer.status_code} {answer.text}")
        batch: dict[str, Any] = answer.json()
        while batch["status"] != "done" and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
            batch = (await client.get(batch["status_url"])).json()
    return batch


async def _accepted(client: httpx.AsyncClient, batch: dict[str, Any]) -> list[str]:
    found: list[str] = []
    url: str | None = f"{batch['results_url']}?outcome=accepted&limit=1000"
    while url is not None:
        page = (await client.get(url)).json()
        found.extend(result["disclosure_id"] for result in page["results"])
        url = page["next"]
    return found


def _epoch(moment: str) -> float:
    return datetime.fromisoformat(moment).timestamp()
