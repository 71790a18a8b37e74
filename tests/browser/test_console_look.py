"""The console's look in a real Chromium: a phone reaches the requeue button and the
latest bar, the focus ring shows, and the refresh switch reloads the page on a fake clock."""

from __future__ import annotations

from typing import Any

from tests.browser.console_seed import ALICE
from tests.browser.test_console_browser import (
    PHONE,
    base_url,
    browser,
    gateway,
    gateway_options,
    open_page,
    sign_in,
    watch,
)
from tests.integration.conftest import Gateway

__all__ = ["base_url", "browser", "gateway", "gateway_options"]  # fixtures


def _within_viewport(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not drawn"
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (selector, box)
    return box


def test_on_a_phone_the_requeue_button_and_the_latest_bar_are_on_screen(
    browser: Any, base_url: str, gateway: Gateway,
) -> None:
    page = open_page(browser, viewport=PHONE)
    problems = watch(page, base_url)
    sign_in(page, base_url, ALICE)
    # The latest bar of each chart, left where the page opened: the script scrolled each
    # chart's box to its right end (only the horizontal place is asked of the box).
    charts = page.locator(".chartbox svg.chart").count()
    assert charts == 3  # the schedule by hour and by day, deliveries over time
    for chart in range(charts):
        bar = page.locator(".chartbox").nth(chart).locator("svg.chart > g").last
        box = bar.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"], (chart, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.goto(f"{base_url}/console/dead-letters")
    row = "tr[data-dead-id]"
    _within_viewport(page, f"{row} button.primary")
    _within_viewport(page, f"{row} button.danger")
    # Each cell says which column it is, drawn before its content.
    label = page.evaluate("""() => getComputedStyle(
        document.querySelector('tr[data-dead-id] td[data-label]'), '::before').content""")
    assert label == '"Date d’abandon (heure de Toronto)"'
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert problems == []
    page.context.close()


def test_the_keyboard_focus_is_ringed(browser: Any, base_url: str) -> None:
    page = open_page(browser)
    sign_in(page, base_url, ALICE)
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the first link of the header
    ring = page.evaluate("""() => {
        const focused = document.activeElement, s = getComputedStyle(focused);
        return [focused.tagName, s.outlineStyle, s.outlineWidth, s.outlineColor]; }""")
    assert ring[0] == "A" and ring[1] == "solid" and ring[2] == "3px", ring
    assert ring[3] == "rgb(255, 209, 102)", ring  # the light ring on the dark header
    page.focus("#refresh-toggle")
    page.keyboard.press("Space")  # a keyboard focus on the page's own ground
    colour = page.evaluate("getComputedStyle(document.activeElement).outlineColor")
    assert colour == "rgb(11, 92, 173)"
    page.context.close()


def test_the_refresh_switch_reloads_the_page_every_30_s_unless_an_operator_is_busy(
    browser: Any, base_url: str,
) -> None:
    page = open_page(browser)
    problems = watch(page, base_url)
    page.clock.install()
    sign_in(page, base_url, ALICE)
    main = page.locator("main")
    age = page.locator("time[data-read-at]")

    page.clock.run_for(5_000)
    assert age.inner_text() == "Mis à jour il y a 5 s"
    page.clock.run_for(30_000)
    assert main.get_attribute("data-refreshes") is None  # off until switched on

    page.check("#refresh-toggle")
    assert page.evaluate("localStorage.getItem('console.refresh')") == "on"
    with page.expect_response(lambda answer: answer.url == f"{base_url}/console/"):
        page.clock.run_for(30_000)
    page.wait_for_selector("main[data-refreshes='1']")
    assert page.is_checked("#refresh-toggle")  # the new content remembers the switch

    page.locator("details.chart-numbers summary").first.click()  # reading the numbers
    page.clock.run_for(60_000)
    assert main.get_attribute("data-refreshes") == "1"
    page.locator("details.chart-numbers summary").first.click()
    with page.expect_response(lambda answer: answer.url == f"{base_url}/console/"):
        page.clock.run_for(30_000)
    page.wait_for_selector("main[data-refreshes='2']")

    page.reload()  # the switch is remembered in this browser
    assert page.is_checked("#refresh-toggle")
    page.uncheck("#refresh-toggle")
    page.clock.run_for(60_000)
    assert main.get_attribute("data-refreshes") is None
    assert problems == []
    page.context.close()
