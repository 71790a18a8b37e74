"""Pages from Jinja2 templates, in the operator's language, with the session cookie.

Templates live next to this module (``templates/``) and autoescape everything; charts
come in as :class:`markupsafe.Markup` built by :mod:`.charts`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Response
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from notifier.errors import Refusal
from notifier.package_files import shipped_folder
from notifier.privacy import mask_address
from notifier.web.console.browser import PREFIX, Browser

TEMPLATES = shipped_folder("notifier.web.console", "templates")

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["mask"] = mask_address


def _nav(browser: Browser) -> list[tuple[str, str]]:
    operator = browser.operator
    if operator is None:
        return []
    items = [(f"{PREFIX}/", "nav.overview"), (f"{PREFIX}/messages", "messages.nav"),
             (f"{PREFIX}/story", "nav.story"), (f"{PREFIX}/replies", "nav.replies"),
             (f"{PREFIX}/usage", "usage.nav"), (f"{PREFIX}/outcomes", "outcomes.nav")]
    if operator.location is None:
        items += [(f"{PREFIX}/dead-letters", "nav.dead_letters"),
                  (f"{PREFIX}/opt-outs", "nav.opt_outs"),
                  (f"{PREFIX}/integrators", "nav.integrators")]
    return items


def _scope(browser: Browser) -> str:
    """The clinics the operator sees, as the header names them."""
    operator = browser.operator
    if operator is None or operator.location is None:
        return browser.words("scope.all")
    clinic = browser.console.clinics.get(operator.location)
    return browser.words("places.scope", clinic=clinic.name if clinic else operator.location)


def page(browser: Browser, template: str, *, status: int = 200, path: str = "",
         **context: Any) -> Response:
    """Render ``template`` for this browser.

    Parameters:
      browser: the request's browser (language, operator, form token).
      template: a file under ``templates/``.
      status: the HTTP status.
      path: the current page's path (marks the navigation's current item).
      context: the template's own values.
    """
    html = _env.get_template(template).render(
        scope=_scope(browser),
        t=browser.words,
        lang=str(browser.lang),
        operator=browser.operator,
        csrf=browser.session.csrf,
        nav=_nav(browser),
        path=path,
        here=browser.here,
        prefix=PREFIX,
        read_at=browser.now,  # when the page was read ("updated 12 s ago")
        **context,
    )
    return browser.finish(HTMLResponse(html, status_code=status))


def refusal(browser: Browser, status: int, title: str, message: str) -> Refusal:
    """A refusal page (403, 404) with a way back, as a :class:`Refusal` to raise."""
    return Refusal(page(browser, "refusal.html", status=status, title=title,
                        message=message))
