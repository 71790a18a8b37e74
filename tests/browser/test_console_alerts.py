"""The alerts card and the outcomes page in a real Chromium, on a laptop and on a
390-pixel phone, in French and in English (fixtures from :mod:`.test_console_browser`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.console_seed import ALICE, SOPHIE, Account
from tests.browser.test_console_browser import (
    LAPTOP,
    PHONE,
    base_url,
    browser,
    gateway,
    gateway_options,
    open_page,
    shoot,
    sign_in,
    watch,
)

__all__ = ["base_url", "browser", "gateway", "gateway_options"]  # fixtures

CASES = [
    pytest.param("fr-CA", LAPTOP, ALICE, id="fr-laptop"),
    pytest.param("en-CA", PHONE, SOPHIE, id="en-phone"),
    pytest.param("fr-CA", PHONE, SOPHIE, id="fr-phone"),
    pytest.param("en-CA", LAPTOP, ALICE, id="en-laptop"),
]
WORDS = {
    "fr-CA": {"alerts": "Alertes", "firing": "En alerte", "dead": "Messages abandonnés",
              "nav": "Résultats", "title": "Résultats par clinique",
              "caution": "des associations, pas des effets"},
    "en-CA": {"alerts": "Alerts", "firing": "Firing", "dead": "Dead letters",
              "nav": "Outcomes", "title": "Outcomes by clinic",
              "caution": "associations, not effects"},
}


def fits_the_width(page: Any) -> bool:
    """Nothing but the tables' own scroll boxes is wider than the window."""
    return bool(page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth + 1"))


@pytest.mark.parametrize(("locale", "viewport", "account"), CASES)
def test_the_alerts_card_and_the_outcomes_page(
    browser: Any, base_url: str, locale: str, viewport: dict[str, int], account: Account,
) -> None:
    words = WORDS[locale]
    page = open_page(browser, locale=locale, viewport=viewport)
    problems = watch(page, base_url)
    sign_in(page, base_url, account)

    card = page.locator("#alerts")
    assert card.locator("h2").inner_text() == words["alerts"]
    dead = card.locator("li[data-rule=dead_letters]")
    assert dead.get_attribute("data-firing") == "yes"  # the seed's dead letter
    assert words["firing"] in dead.inner_text() and words["dead"] in dead.inner_text()
    assert dead.locator(".alert-action").is_visible()
    assert card.locator("li[data-firing=no]").count() == 3
    assert card.is_visible() and fits_the_width(page)
    name = f"alerts-{locale[:2]}-{'phone' if viewport == PHONE else 'laptop'}"
    shoot(page, name, full_page=False)

    if viewport == PHONE:
        page.goto(f"{base_url}/console/outcomes")  # the phone's menu may fold the links
    else:
        page.click(f"nav >> text={words['nav']}")
    page.wait_for_url("**/console/outcomes")
    assert page.inner_text("h1") == words["title"]
    assert words["caution"] in page.inner_text("#outcomes-caution")
    sections = page.locator("section.outcomes")
    locations = {sections.nth(i).get_attribute("data-location")
                 for i in range(sections.count())}
    assert locations == ({"plateau"} if account.location else {"plateau", "rosemont"})
    assert "< 5" in page.inner_text("section.outcomes")  # the seed's few messages
    assert fits_the_width(page)
    shoot(page, f"outcomes-{locale[:2]}-{'phone' if viewport == PHONE else 'laptop'}")
    assert problems == []
    page.context.close()
