"""What every browser test does to a page: look at it as a person would (a full-page screenshot
kept in ``SCREENSHOTS``) and as axe-core does (no serious or critical violation)."""

import re
from pathlib import Path
from typing import Any, Final

from playwright.async_api import Page, expect

from tests.browser.conftest import SCREENSHOTS

AXE: Final = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
BLOCKING: Final = frozenset({"serious", "critical"})
# The WCAG 2.x A and AA rules and axe's best practices (headings in order, landmarks, ...).
_AXE_RUN: Final = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
  });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + ": " + n.failureSummary),
  }));
}"""


async def shoot(page: Page, name: str) -> Path:
    """Saves a full-page screenshot of ``page`` as ``<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    assert AXE.is_file(), f"{AXE} is missing: `make node-tools` installs axe-core"
    await page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = await page.evaluate(_AXE_RUN)
    return [v for v in found if v["impact"] in BLOCKING]


def described(found: list[dict[str, Any]]) -> str:
    lines = []
    for v in found:
        lines.append(f"{v['impact']} {v['id']}: {v['help']}")
        lines.extend(f"    {node}" for node in v["nodes"])
    return "\n".join(lines)


async def check(page: Page, name: str) -> None:
    """The page is a dashboard page (its landmarks and title), is screenshot, and has no
    serious or critical accessibility violation; the violations are printed when it has."""
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page).to_have_title(re.compile(r".+ · laboursight$"))
    await expect(page.locator("main")).to_have_count(1)
    await expect(page.get_by_role("link", name="Skip to content")).to_have_count(1)
    await shoot(page, name)
    found = await violations(page)
    if found:
        print(f"axe-core on {page.url}:\n{described(found)}")
    assert not found, f"axe-core on {page.url}:\n{described(found)}"


async def sign_in(page: Page, key: str) -> None:
    """Signs in through the sign-in form, by pointer; lands on the overview."""
    await page.goto("/dashboard/sign-in")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))
