"""What an operator does in a real browser, on a laptop and on a 390-px phone, in both
languages: search for a patient's messages by the number typed as they would say it,
export the list, narrow the overview to one clinic, read a clinic's own overview, and read
what requeueing a dead letter would do."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.browser.console_seed import ALICE, SOPHIE, Account, assert_masked
from tests.browser.test_console_browser import (
    LAPTOP,
    PHONE,
    base_url,
    browser,
    open_page,
    shoot,
    sign_in,
    watch,
)
from tests.integration.conftest import gateway, gateway_options

__all__ = ["base_url", "browser", "gateway", "gateway_options"]  # fixtures

SIZES = pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
LOCALES = pytest.mark.parametrize("locale", ["fr-CA", "en-CA"])
WORDS = {
    "fr-CA": {"results": "Messages destinés à +1•••••••177", "export": "Exporter en CSV",
              "clinic": "Clinique", "reference": "rendez-vous", "coming": "À venir pour",
              "outlook": "Si on le remet en file"},
    "en-CA": {"results": "Messages to +1•••••••177", "export": "Export as CSV",
              "clinic": "Clinic", "reference": "appointment", "coming": "Coming up for",
              "outlook": "If requeued"},
}


def _name(what: str, locale: str, viewport: dict[str, int]) -> str:
    return f"{what}-{locale[:2]}-{'phone' if viewport is PHONE else 'laptop'}"


def _signed_in(browser: Any, base_url: str, account: Account, *, locale: str,
               viewport: dict[str, int]) -> tuple[Any, list[str]]:
    """A new page signed in as ``account``, and what goes wrong in it from now on."""
    page = open_page(browser, locale=locale, viewport=viewport)
    problems = watch(page, base_url)
    sign_in(page, base_url, account)
    return page, problems


def _within_width(page: Any, selector: str) -> None:
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1


@SIZES
@LOCALES
def test_a_number_typed_as_spoken_finds_its_messages_and_the_list_exports(
    browser: Any, base_url: str, locale: str, viewport: dict[str, int],
) -> None:
    words = WORDS[locale]
    page, problems = _signed_in(browser, base_url, ALICE, locale=locale, viewport=viewport)
    page.goto(f"{base_url}/console/messages")
    page.fill("#address", "(514) 555-0177")
    page.click("form[action$='/messages/search'] button[type=submit]")
    page.wait_for_url("**/console/messages/search")
    assert "0177" not in page.url and "514" not in page.url  # posted, never in the URL
    assert page.inner_text("h2#list") == words["results"]
    found = page.locator("table.messages tbody tr")
    assert found.count() >= 1
    assert all("+1•••••••177" in found.nth(i).inner_text() for i in range(found.count()))
    shoot(page, _name("search", locale, viewport))
    if viewport is PHONE:
        _within_width(page, "table.messages tbody tr")

    page.goto(f"{base_url}/console/messages?status=failed")
    with page.expect_download() as download:
        page.click(f"text={words['export']}")
    saved = download.value.path()
    text = saved.read_text(encoding="utf-8-sig")
    assert_masked(text, "the messages export")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert words["clinic"] in header and len(rows) >= 1
    assert problems == []
    page.context.close()


@SIZES
@LOCALES
def test_the_overview_narrows_to_one_clinic_and_a_clinic_sees_its_own(
    browser: Any, base_url: str, locale: str, viewport: dict[str, int],
) -> None:
    words = WORDS[locale]
    page, problems = _signed_in(browser, base_url, ALICE, locale=locale, viewport=viewport)
    page.select_option("#clinic", "rosemont")
    page.click("#clinic-filter button[type=submit]")
    page.wait_for_url("**/console/?period=day&clinic=rosemont")
    assert "Clinique Rosemont" in page.inner_text("#clinic-showing")
    tables = page.locator("section[aria-labelledby=deliveries] table")
    by_clinic = " ".join(tables.nth(i).inner_text() for i in range(tables.count()))
    assert "Clinique Rosemont" in by_clinic and "Clinique médicale du Plateau" not in by_clinic
    shoot(page, _name("overview-clinic", locale, viewport))
    page.context.close()

    page, more = _signed_in(browser, base_url, SOPHIE, locale=locale, viewport=viewport)
    problems += more
    assert page.inner_text("#clinic-ahead").startswith(words["coming"])
    assert page.inner_text("#clinic-health").strip()
    if viewport is PHONE:
        _within_width(page, "#clinic-coming-up")
    shoot(page, _name("overview-scoped", locale, viewport))
    assert problems == []
    page.context.close()


@SIZES
@LOCALES
def test_a_dead_letter_says_what_requeueing_it_would_do(
    browser: Any, base_url: str, locale: str, viewport: dict[str, int],
) -> None:
    words = WORDS[locale]
    page, problems = _signed_in(browser, base_url, ALICE, locale=locale, viewport=viewport)
    page.goto(f"{base_url}/console/dead-letters")
    outlook = page.locator("[data-outlook]").first
    assert outlook.inner_text().strip()
    header = page.locator("th", has_text=words["outlook"])
    assert header.count() == 1
    if viewport is PHONE:
        _within_width(page, "[data-outlook]")
    shoot(page, _name("dead-letters", locale, viewport))
    assert problems == []
    page.context.close()
