"""Driving Debian's Chromium with Playwright against a running stack: pages, screenshots,
signing in through the form, the accessibility check (fixtures in tests/web/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.support.stack import RunningStack

# Assertions wait as long as actions do: on a loaded 2-core CI machine a page that waits
# for a workflow round trip can take longer than Playwright's 5 s default.
expect.set_options(timeout=20_000)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
DEMO_PASSWORD = "marketred-demo"
BUYER = "comprador@marketred.cl"


async def new_page(
    browser: Browser, stack: RunningStack, *, javascript: bool = True, mobile: bool = False
) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(
        base_url=stack.base_url,
        java_script_enabled=javascript,
        locale="es-CL",
        timezone_id="America/Santiago",
        viewport={"width": 390, "height": 844} if mobile else {"width": 1280, "height": 900},
    )
    context.set_default_timeout(20_000)
    return context, await context.new_page()


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def sign_in(page: Page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Fill the sign-in form the page was sent to (or open it) and submit."""
    if "/ingresar" not in page.url:
        await page.goto("/ingresar")
    await page.get_by_label("Correo").fill(email)
    await page.get_by_label("Contraseña").fill(password)
    await page.get_by_role("button", name="Ingresar").click()
    await page.wait_for_load_state()
    assert "/ingresar" not in page.url, await page.content()


UNLABELLED_FIELDS = """
() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 120))
"""


async def assert_accessible_forms(page: Page) -> None:
    """Every field has a label and every button a name (what a screen reader announces)."""
    assert await page.evaluate(UNLABELLED_FIELDS) == [], page.url
