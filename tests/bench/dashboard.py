"""`make bench`: each dashboard page's server time with 10,000 entities (issue 13's target: every
page under 300 ms).

On a fresh embedded mongod (and tansu, which the api's lifespan connects to), one tenant gets
``--entities`` suppliers and recruiters across countries, recorded as the risk service records
them (``RecordFindings`` over batches of findings events, so the profiles, screenings, alerts and
outbox are risk's own documents): every level, indicators at high and critical, suppliers
staffed by recruiters, and a share screened twice with a rise, so the overview has risers.
Some alerts are triaged into cases through the dashboard's own form. Then each page is asked for
``--repeats`` times through httpx on the app in process (no network: the time is the app's), and
the median and p95 are printed next to the target. The figures go to
tests/bench/results/dashboard.json. Asserts nothing.
"""

import argparse
import asyncio
import html
import json
import platform
import random
import re
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import httpx
from fastapi import FastAPI

from laboursight_api.app import create_app
from laboursight_api.keys import create_api_key
from laboursight_api.settings import ApiSettings
from laboursight_risk.handlers import RecordFindings
from laboursight_risk.store import MongoRiskStore
from laboursight_runtime.local import LocalServers
from laboursight_runtime.mongo import make_client
from laboursight_schemas.findings import FindingsComputed, Indicator, RiskLevel
from tests.api.fakes import FakeBus
from tests.bench.stats import percentile
from tests.risk.builders import event, findings, supplier
from tests.risk.fakes import FakeBroker

TARGET_MS: Final = 300.0
TENANT: Final = "tenant-bench"
DATABASE: Final = "dashboard-bench"
RESULTS: Final = Path(__file__).parent / "results" / "dashboard.json"
COUNTRIES: Final = (
    "BD", "IN", "PK", "NP", "LK", "MM", "TH", "VN", "KH", "MY", "ID", "PH", "CN", "TR", "EG",
    "ET", "KE", "UG", "GH", "CI", "NG", "MA", "BR", "PE", "MX", "GT", "HN", "US", "GB", "DE",
)  # fmt: skip
# Most entities are low; the shares are a plausible portfolio, not measured ones.
LEVELS: Final[tuple[tuple[RiskLevel, float], ...]] = (
    ("low", 0.5),
    ("medium", 0.25),
    ("high", 0.15),
    ("critical", 0.10),
)
INDICATORS: Final[tuple[Indicator, ...]] = (
    "debt_bondage",
    "recruitment_fees_charged_to_workers",
    "retention_of_identity_documents",
    "withholding_of_wages",
    "excessive_overtime",
)
RECRUITER_SHARE: Final = 0.3
RISE_SHARE: Final = 0.1
CASES: Final = 200
BATCH: Final = 100
_CSRF: Final = re.compile(r'name="csrf_token" value="([^"]+)"')
_TRIAGE: Final = re.compile(r'action="(/dashboard/alerts/[^/"]+/triage)"')
_NEXT: Final = re.compile(r'<a href="([^"]+)">Next page</a>')


@dataclass(frozen=True)
class PageTime:
    page: str
    path: str
    requests: int
    median_ms: float
    p95_ms: float
    max_ms: float

    @property
    def under_target(self) -> bool:
        return self.p95_ms < TARGET_MS


def _level(rng: random.Random) -> RiskLevel:
    draw, total = rng.random(), 0.0
    for level, share in LEVELS:
        total += share
        if draw < total:
            return level
    return LEVELS[-1][0]


def _portfolio(count: int, seed: int) -> tuple[list[FindingsComputed], list[FindingsComputed]]:
    """The first screening of every entity, and the later ones of those whose level rose."""
    rng = random.Random(seed)
    recruiters = [f"REC-{i:05d}" for i in range(int(count * RECRUITER_SHARE))]
    first: list[FindingsComputed] = []
    later: list[FindingsComputed] = []
    for i in range(count):
        level = _level(rng)
        indicators = rng.sample(INDICATORS, 2) if level in ("high", "critical") else []
        country = rng.choice(COUNTRIES)
        if i < len(recruiters):
            made = findings(
                "recruiter",
                recruiters[i],
                level,
                indicators=indicators,
                name=f"Recruiter {i}",
                country=country,
                end="2026-03-31",
            )
        else:
            staff = [
                (r, rng.randint(5, 200), round(rng.random(), 2)) for r in rng.sample(recruiters, 2)
            ]
            made = supplier(
                f"SUP-{i:05d}",
                level,
                recruiters=staff,
                indicators=indicators,
                name=f"Supplier {i}",
                country=country,
                end="2026-03-31",
            )
        first.append(made)
        if level != "critical" and rng.random() < RISE_SHARE:
            later.append(
                made.model_copy(
                    update={
                        "disclosure_id": f"{made.disclosure_id}-q2",
                        "disclosure_event_id": str(uuid.uuid4()),
                        "period": made.period.model_copy(update={"end": date(2026, 6, 30)}),
                        "findings": findings(
                            made.entity_kind, made.entity_id, "critical", indicators=INDICATORS[:2]
                        ).findings,
                        "judgement": made.judgement.model_copy(
                            update={
                                "risk_level": "critical",
                                "score": 92,
                                "forced_labour_likely": True,
                            }
                        ),
                    }
                )
            )
    return first, later


async def _seed(settings: ApiSettings, count: int, seed: int) -> tuple[str, str, str, str]:
    """Records the portfolio; returns an analyst's and an auditor's key, a critical supplier and
    a recruiter to open."""
    first, later = _portfolio(count, seed)
    client = make_client(settings)
    try:
        db = client[settings.mongodb_database]
        store = MongoRiskStore(client, settings.mongodb_database)
        await store.create_indexes()
        record = RecordFindings(store, FakeBroker())
        started = time.perf_counter()
        for screenings in (first, later):
            for start in range(0, len(screenings), BATCH):
                await record(
                    [event(f, tenant_id=TENANT) for f in screenings[start : start + BATCH]]
                )
        print(
            f"seeded {len(first):,} entities ({len(later):,} screened again, higher) "
            f"in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        analyst = await create_api_key(db, TENANT, "analyst", [], "dashboard bench")
        auditor = await create_api_key(db, TENANT, "auditor", [], "dashboard bench")
    finally:
        await client.close()
    critical = next(
        f for f in first if f.entity_kind == "supplier" and f.judgement.risk_level == "critical"
    )
    recruiter = next(f for f in first if f.entity_kind == "recruiter")
    return analyst, auditor, critical.entity_id, recruiter.entity_id


def _csrf(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    if found is None:
        raise RuntimeError(f"no CSRF token on {page.url} ({page.status_code})")
    return found[1]


async def _sign_in(client: httpx.AsyncClient, key: str) -> None:
    form = await client.get("/dashboard/sign-in")
    answer = await client.post(
        "/dashboard/sign-in", data={"api_key": key, "csrf_token": _csrf(form)}
    )
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in answered {answer.status_code}")


async def _open_cases(client: httpx.AsyncClient, count: int) -> str:
    """Triages ``count`` open alerts, read from the inbox's pages; returns the last case's path.

    The inbox lists an alert as open until risk folds the case's event, and no risk runs here,
    so each alert is triaged once from the list it was first seen in."""
    case, page = "", "/dashboard/inbox"
    seen = 0
    while seen < count:
        inbox = await client.get(page)
        for action in _TRIAGE.findall(inbox.text)[: count - seen]:
            answer = await client.post(action, data={"csrf_token": _csrf(inbox)})
            if answer.status_code != 303:
                raise RuntimeError(f"{action} answered {answer.status_code}")
            case, seen = answer.headers["location"], seen + 1
        more = _NEXT.search(inbox.text)
        if more is None:
            break
        page = html.unescape(more[1])
    if not case:
        raise RuntimeError("the inbox offered no alert to triage")
    return case


async def _time(client: httpx.AsyncClient, name: str, path: str, repeats: int) -> PageTime:
    first = await client.get(path)
    if first.status_code != 200:
        raise RuntimeError(f"{path} answered {first.status_code}")
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        answer = await client.get(path)
        seconds.append(time.perf_counter() - started)
        answer.raise_for_status()
    ms = [s * 1000 for s in seconds]
    return PageTime(name, path, repeats, percentile(ms, 0.5), percentile(ms, 0.95), max(ms))


async def _measure(
    app: FastAPI, keys: tuple[str, str], entities: tuple[str, str], repeats: int
) -> list[PageTime]:
    analyst, auditor = keys
    supplier_id, recruiter_id = entities
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://bench") as reader,
            httpx.AsyncClient(transport=transport, base_url="http://bench") as auditing,
        ):
            await _sign_in(reader, analyst)
            await _sign_in(auditing, auditor)
            case = await _open_cases(reader, CASES)
            print(f"alerts triaged into cases, up to {CASES}", file=sys.stderr)
            version = re.search(
                r'href="/dashboard/method/([^"]+)"', (await reader.get("/dashboard/method")).text
            )
            pages = [
                (
                    "sign-in (signed out)",
                    "/dashboard/sign-in",
                    httpx.AsyncClient(transport=transport, base_url="http://bench"),
                ),
                ("overview", "/dashboard", reader),
                ("map", "/dashboard/map", reader),
                ("map, one country", "/dashboard/map?country=BD", reader),
                ("entities (ranked)", "/dashboard/entities", reader),
                ("entity: supplier", f"/dashboard/entities/supplier/{supplier_id}", reader),
                ("entity: recruiter", f"/dashboard/entities/recruiter/{recruiter_id}", reader),
                ("inbox", "/dashboard/inbox", reader),
                ("cases (board)", "/dashboard/cases", reader),
                ("case", case, reader),
                ("method", "/dashboard/method", reader),
                (
                    "method: rule set",
                    f"/dashboard/method/{version[1] if version else 'none'}",
                    reader,
                ),
                ("ledger (auditor)", "/dashboard/ledger", auditing),
            ]
            times = []
            for name, path, client in pages:
                times.append(await _time(client, name, path, repeats))
            await pages[0][2].aclose()
    return times


def _report(times: Sequence[PageTime], entities: int) -> None:
    print()
    print(f"dashboard pages, {entities:,} entities: server time (httpx on the app in process)")
    print(f"{'page':<24}{'requests':>9}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'target':>9}")
    for t in times:
        verdict = "PASS" if t.under_target else "FAIL"
        print(
            f"{t.page:<24}{t.requests:>9}{t.median_ms:>11.1f}{t.p95_ms:>9.1f}{t.max_ms:>9.1f}"
            f"{f'<{TARGET_MS:.0f}':>9} {verdict}"
        )
    slowest = max(times, key=lambda t: t.p95_ms)
    met = all(t.under_target for t in times)
    print(
        f"{'PASS' if met else 'FAIL'}: every page's p95 under {TARGET_MS:.0f} ms "
        f"(slowest: {slowest.page}, p95 {slowest.p95_ms:.1f} ms)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Seeds the entities on fresh local servers, times every page, prints and saves the table."""
    options = argparse.ArgumentParser(description=main.__doc__)
    options.add_argument("--entities", type=int, default=10_000)
    options.add_argument("--repeats", type=int, default=30, help="timed requests per page")
    options.add_argument("--seed", type=int, default=2026)
    args = options.parse_args(argv)
    with LocalServers() as servers:
        env = servers.environment().items()
        values: dict[str, Any] = {name.lower(): value for name, value in env}
        settings = ApiSettings(
            **values,
            mongodb_database=DATABASE,
            api_dead_letter_group=f"dashboard-bench-{uuid.uuid4().hex[:8]}",
            # The background work would compete with the pages for the loop; none is due here.
            api_relay_interval_s=3600,
            api_sweep_interval_s=3600,
            api_case_relay_interval_s=3600,
            api_case_overdue_interval_s=3600,
        )

        async def run() -> list[PageTime]:
            analyst, auditor, supplier_id, recruiter_id = await _seed(
                settings, args.entities, args.seed
            )
            client = make_client(settings)
            try:
                app = create_app(settings, publisher=FakeBus(), db=client[DATABASE])
                return await _measure(
                    app, (analyst, auditor), (supplier_id, recruiter_id), args.repeats
                )
            finally:
                await client.close()

        times = asyncio.run(run())
    _report(times, args.entities)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "entities": args.entities,
                "repeats": args.repeats,
                "target_ms": TARGET_MS,
                "python": platform.python_version(),
                "pages": [asdict(t) for t in times],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"figures in {RESULTS}")


if __name__ == "__main__":
    main(sys.argv[1:])
