"""The console in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

The app is served by uvicorn on a free loopback port, over the tests' own Redis filled by
:func:`tests.browser.console_seed.seed`. Screenshots of the main pages go to
``tests/artifacts/screenshots/`` (git-ignored); the laptop overview is also copied to
``docs/console.png`` for the README.

Skipped only when ``/usr/bin/chromium`` or the ``playwright`` package is absent
(``.ci/run`` installs both).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from notifier.local_redis import free_port
from notifier.operations.dead_letters import list_dead, operator_actions
from notifier.web.app import create_app
from tests.app_server import serving
from tests.browser.console_seed import (
    ALICE,
    PLATEAU_REFERENCE,
    SOPHIE,
    VICTOR,
    Account,
    assert_masked,
    console_settings,
    seed,
)
from tests.integration.conftest import Gateway, gateway, gateway_options

__all__ = ["gateway", "gateway_options"]  # fixtures

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
README_SHOT = ROOT / "docs" / "console.png"
LAPTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install playwright)"
)
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (apt-get install -y chromium; .ci/run does)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def base_url(gateway: Gateway) -> Iterator[str]:
    """The console's address, served by a real uvicorn in a thread."""
    seed(gateway)
    app = create_app(console_settings(gateway), redis=gateway.client, clock=gateway.clock)
    with serving(app, free_port()) as url:
        yield url


def open_page(browser: Any, *, locale: str = "fr-CA", viewport: dict[str, int] = LAPTOP) -> Any:
    context = browser.new_context(locale=locale, viewport=viewport)
    context.set_default_timeout(10_000)
    return context.new_page()


def watch(page: Any, base_url: str) -> list[str]:
    """What went wrong in ``page`` from now on: script errors, console errors (a
    Content-Security-Policy violation is one) and any request to another host (refused)."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda message: message.type == "error"
            and problems.append(f"console: {message.text}"))

    def outside(route: Any) -> None:
        if route.request.url.startswith(base_url + "/") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            problems.append(f"request to another host: {route.request.url}")
            route.abort()

    page.context.route("**/*", outside)
    return problems


def sign_in(page: Any, base_url: str, account: Account) -> None:
    page.goto(f"{base_url}/console/")
    assert "/console/sign-in" in page.url  # no session: sent to sign in
    page.fill("#name", account.name)
    page.fill("#password", account.password)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base_url}/console/")


def shoot(page: Any, name: str, *, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert_masked(page.content(), name)
    return path


def test_an_admin_finds_a_story_and_requeues_a_dead_letter(
    browser: Any, base_url: str, gateway: Gateway,
) -> None:
    page = open_page(browser)
    problems = watch(page, base_url)
    shoot(page.goto(f"{base_url}/console/sign-in") and page, "sign-in")
    sign_in(page, base_url, ALICE)

    assert page.inner_text("h1") == "Vue d’ensemble"
    assert page.locator("svg.chart").count() == 3  # schedule by hour, by day; deliveries
    overview = shoot(page, "overview-fr", full_page=False)
    if os.environ.get("UPDATE_README_SCREENSHOT"):
        # Only on demand: a test run must not rewrite a committed file.
        shutil.copyfile(overview, README_SHOT)
    shoot(page, "overview-fr-full")

    page.click("text=Rendez-vous")
    page.fill("#reference", PLATEAU_REFERENCE)
    page.press("#reference", "Enter")
    page.wait_for_url(f"**/console/story?reference={PLATEAU_REFERENCE}")
    assert page.inner_text("h2#appt") == f"Rendez-vous {PLATEAU_REFERENCE}"
    page.click("section[aria-labelledby=appt] details.history summary")
    timeline = page.inner_text("section[aria-labelledby=appt]")
    assert "Événement reçu" in timeline and "rendez-vous pris" in timeline
    assert "e•••@example.org" in page.content()
    shoot(page, "story-fr")

    page.click("text=Messages abandonnés")
    (letter,) = list_dead(gateway.client, gateway.settings)
    row = page.locator(f"tr[data-dead-id='{letter.message_id}']")
    row.locator("summary").click()  # inspect
    assert "intake_event" in row.inner_text()
    shoot(page, "dead-letters-fr")
    row.locator("input[name=reason]").fill("événement corrigé en amont")
    row.locator("button.primary").click()
    page.wait_for_url("**/console/dead-letters?done=requeued&count=1")
    assert "1 message(s) remis en file." in page.inner_text("main")
    assert list_dead(gateway.client, gateway.settings) == [] or all(
        d.message_id != letter.message_id for d in list_dead(gateway.client, gateway.settings))
    (action,) = operator_actions(gateway.client, gateway.settings)
    assert (action.actor, action.action) == ("alice", "requeue")

    page.click("text=Désabonnements")
    page.fill("#number", "+15145550188")
    page.click("form[action$='/opt-outs/lookup'] button")
    assert "+1•••••••188" in page.inner_text("#result")
    shoot(page, "opt-outs-fr")

    page.click("header button[lang=en]")  # the language toggle
    assert page.inner_text("h1") == "Opt-outs"
    page.goto(f"{base_url}/console/?period=week")
    shoot(page, "overview-en", full_page=False)
    assert problems == []
    page.context.close()


def test_discarding_asks_first(browser: Any, base_url: str, gateway: Gateway) -> None:
    page = open_page(browser, locale="en-CA")
    problems = watch(page, base_url)
    sign_in(page, base_url, ALICE)
    page.goto(f"{base_url}/console/dead-letters")
    (letter,) = list_dead(gateway.client, gateway.settings)
    discard = page.locator(f"tr[data-dead-id='{letter.message_id}'] button.danger")
    questions: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    discard.click()
    assert len(questions) == 1 and list_dead(gateway.client, gateway.settings) == [letter]
    page.once("dialog", lambda dialog: answer(dialog, True))
    discard.click()
    page.wait_for_url("**/console/dead-letters?done=discarded*")
    assert questions[0] == questions[1] and list_dead(gateway.client, gateway.settings) == []
    assert problems == []
    page.context.close()


def test_the_api_documentation_works_without_other_sites(browser: Any, base_url: str) -> None:
    page = open_page(browser, locale="en-CA")
    problems = watch(page, base_url)
    sign_in(page, base_url, VICTOR)
    answer = page.goto(f"{base_url}/console/docs")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert page.title() == "Patient notifier: API"
    assert "Patient notifier" in page.inner_text(".swagger-ui .info .title")
    page.locator(".opblock-summary-path", has_text="/v1/events").first.wait_for()
    shoot(page, "api-docs", full_page=False)
    assert problems == []
    page.context.close()


def test_a_viewer_cannot_requeue(browser: Any, base_url: str, gateway: Gateway) -> None:
    page = open_page(browser, locale="en-CA")
    sign_in(page, base_url, VICTOR)
    assert page.inner_text("h1") == "Overview"

    page.click("text=Dead letters")
    assert page.locator("tr[data-dead-id]").count() == 1
    assert page.locator("main form").count() == 0  # no requeue, discard or requeue-all
    assert "Only an admin can requeue or discard." in page.inner_text("main")
    # Even a hand-made request with a valid form token is refused.
    token = page.locator("header input[name=csrf]").first.get_attribute("value")
    (letter,) = list_dead(gateway.client, gateway.settings)
    answer = page.request.post(f"{base_url}/console/dead-letters/requeue", form={
        "csrf": token, "queue": letter.queue, "id": letter.message_id, "reason": "x"},
        max_redirects=0)
    assert answer.status == 403
    assert [d.message_id for d in list_dead(gateway.client, gateway.settings)] == [
        letter.message_id]
    shoot(page, "dead-letters-viewer-en")
    page.context.close()


def test_a_clinic_viewer_on_a_phone(browser: Any, base_url: str) -> None:
    page = open_page(browser, viewport=PHONE)
    sign_in(page, base_url, SOPHIE)
    # No way to the dead letters (the alerts card may say that some exist).
    assert page.locator("nav >> text=Messages abandonnés").count() == 0
    assert page.locator("a[href$='/dead-letters']").count() == 0
    # Nothing wider than the phone's screen (tables scroll inside their cards).
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    shoot(page, "overview-phone-clinic")
    page.goto(f"{base_url}/console/story?reference=0000000002")  # another clinic's
    assert page.inner_text("h1") == "Introuvable"
    page.context.close()


def test_a_clinic_viewer_follows_the_overview_to_its_undeliverable_contacts(
    browser: Any, base_url: str,
) -> None:
    page = open_page(browser, viewport=PHONE)
    problems = watch(page, base_url)
    sign_in(page, base_url, SOPHIE)
    assert "Coordonnées injoignables : 1" in page.inner_text("#undeliverable-link")

    page.click("#undeliverable-link a")
    page.wait_for_url(f"{base_url}/console/undeliverable")
    assert page.inner_text("h1") == "Coordonnées injoignables"
    row = page.inner_text("section[aria-labelledby=contacts] tbody")
    assert "+1•••••••188" in row and "landline" in row and "ligne fixe" in row
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shoot(page, "undeliverable-phone-clinic")
    assert problems == []
    page.context.close()
