"""An appointment's story in a real browser: each message's history opens, what the patient
received shows masked, on a laptop and a 390-px phone, in French and English."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.console_seed import ALICE, PLATEAU_REFERENCE, assert_masked
from tests.browser.test_console_browser import (
    LAPTOP,
    PHONE,
    base_url,
    browser,
    open_page,
    pytestmark,
    shoot,
    sign_in,
)
from tests.integration.conftest import gateway, gateway_options

__all__ = ["base_url", "browser", "gateway", "gateway_options", "pytestmark"]

CASES = [("fr-CA", LAPTOP, "Historique", "Texto reçu"),
         ("en-CA", PHONE, "History", "Text received")]


@pytest.mark.parametrize(("locale", "viewport", "history", "received"), CASES)
def test_a_story_opens_a_messages_history_and_shows_what_the_patient_received(
    browser: Any, base_url: str, locale: str, viewport: dict[str, int], history: str,
    received: str,
) -> None:
    page = open_page(browser, locale=locale, viewport=viewport)
    sign_in(page, base_url, ALICE)
    page.goto(f"{base_url}/console/story?reference={PLATEAU_REFERENCE}")

    row = page.locator("tr[data-message*=':confirmation:sms:']")
    lines = row.locator("details.history ol")
    assert not lines.is_visible()
    row.locator("details.history summary").click()
    assert lines.is_visible() and history in row.inner_text()
    row.locator("details.received summary", has_text=received).click()
    text = row.locator("pre.received-text").inner_text()
    assert "•••" in text and "segment(s)" in row.inner_text()
    assert_masked(page.content(), f"story ({locale})")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    shoot(page, f"story-{locale}-{viewport['width']}")
    page.context.close()
