"""The Messages page in a real browser, on a laptop and on a 390-px phone, in both
languages: from a failure count of the overview to the list of those messages, then to
the appointment's story."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

from tests.browser.console_seed import ALICE, PLATEAU_REFERENCE
from tests.browser.test_console_browser import (
    LAPTOP,
    PHONE,
    README_SHOT,
    base_url,
    browser,
    open_page,
    shoot,
    sign_in,
    watch,
)
from tests.integration.conftest import gateway, gateway_options

__all__ = ["base_url", "browser", "gateway", "gateway_options"]  # fixtures

MESSAGES_SHOT = README_SHOT.with_name("console-messages.png")

WORDS = {
    "fr-CA": ("échec", "Demandez au patient un numéro de cellulaire", "Rendez-vous"),
    "en-CA": ("failed", "Ask the patient for a mobile number", "Appointment"),
}


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
@pytest.mark.parametrize("locale", ["fr-CA", "en-CA"])
def test_a_failure_count_leads_to_its_messages_and_then_to_the_story(
    browser: Any, base_url: str, locale: str, viewport: dict[str, int],
) -> None:
    failed, next_step, appointment = WORDS[locale]
    page = open_page(browser, locale=locale, viewport=viewport)
    problems = watch(page, base_url)
    sign_in(page, base_url, ALICE)

    page.click("section[aria-labelledby=failures] a[href*='reason=landline']")
    page.wait_for_url("**/console/messages?status=failed&channel=sms&reason=landline&from=*")
    listed = page.locator("table.messages tbody tr")
    assert listed.count() == 1
    row = listed.first.inner_text()
    assert failed in row and next_step in row and "+1•••••••188" in row
    name = f"messages-{locale[:2]}-{'phone' if viewport is PHONE else 'laptop'}"
    shot = shoot(page, name)
    if os.environ.get("UPDATE_README_SCREENSHOT") and name == "messages-fr-laptop":
        shutil.copyfile(shot, MESSAGES_SHOT)  # only on demand, as the overview's

    listed.first.locator(f"a[href$='reference={PLATEAU_REFERENCE}']").click()
    page.wait_for_url(f"**/console/story?reference={PLATEAU_REFERENCE}")
    assert page.inner_text("h2#appt") == f"{appointment} {PLATEAU_REFERENCE}"
    assert problems == []
    page.context.close()
