"""The console's look as the server renders it: tables that turn into cards, charts whose
colours mean one thing and whose numbers are a table too, readable colours, labelled
fields, French pages without English, fresh-page timestamps, and opting back in only on
the patient's consent."""

from __future__ import annotations

import colorsys
import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

from notifier.delivery_status import DeliveryStatus
from notifier.domain import Channel
from notifier.store.optouts import OptOutStore
from notifier.web.console import i18n
from notifier.web.console.charts import CHANNEL_COLOURS, STATUS_COLOURS
from tests.browser.console_seed import ALICE, OPTED_OUT_NUMBER
from tests.integration.test_console import Console, console

__all__ = ["console"]  # fixture

CSS = Path(i18n.__file__).parent / "static" / "console.css"
PAGES = ("/console/", "/console/?period=week", "/console/dead-letters", "/console/replies",
         "/console/opt-outs", "/console/integrators",
         "/console/undeliverable?location=plateau")


class Cells(HTMLParser):
    """Every table cell and form field of a page, with what a reader needs to know."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[str] = []  # classes of the open tables, innermost last
        self.cells: list[tuple[str, str, dict[str, str | None]]] = []  # (table class, tag, attrs)
        self.headers: list[str] = []  # each <th>'s text
        self.fields: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self._th: list[str] | None = None
        self._label_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self.tables.append(found.get("class") or "")
        elif tag in ("td", "th") and self.tables:
            self.cells.append((self.tables[-1], tag, found))
            if tag == "th":
                self._th = []
        elif tag == "label":
            self._label_depth += 1
            if found.get("for"):
                self.labels.add(found["for"] or "")
        elif tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.fields.append(found | {"_wrapped": "yes" if self._label_depth else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.tables:
            self.tables.pop()
        elif tag == "th" and self._th is not None:
            self.headers.append("".join(self._th).strip())
            self._th = None
        elif tag == "label":
            self._label_depth -= 1

    def handle_data(self, data: str) -> None:
        if self._th is not None:
            self._th.append(data)


def read(html: str) -> Cells:
    cells = Cells()
    cells.feed(html)
    return cells


def _lookup(console: Console) -> str:
    found = console.post("/console/opt-outs/lookup", {"number": OPTED_OUT_NUMBER},
                         page="/console/opt-outs")
    assert found.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', found.text)
    assert token
    return token[1]


# Opting back in ---------------------------------------------------------------------------

def test_opting_back_in_needs_the_patients_consent_ticked(console: Console) -> None:
    console.sign_in(ALICE)
    token = _lookup(console)
    store = OptOutStore(console.gateway.client, console.gateway.settings)

    refused = console.post("/console/opt-outs/change",
                           {"token": token, "channel": "sms", "action": "in",
                            "reason": "patient called the clinic"}, page="/console/opt-outs")

    assert refused.status_code == 422
    assert "Un numéro n’est réabonné qu’à la demande du patient" in refused.text
    assert store.is_opted_out(OPTED_OUT_NUMBER, Channel.SMS)

    agreed = console.post("/console/opt-outs/change",
                          {"token": token, "channel": "sms", "action": "in",
                           "reason": "patient called the clinic", "consent": "yes"},
                          page="/console/opt-outs")
    assert agreed.status_code == 200 and "État changé et consigné." in agreed.text
    assert not store.is_opted_out(OPTED_OUT_NUMBER, Channel.SMS)


def test_opting_out_needs_no_consent_box(console: Console) -> None:
    console.sign_in(ALICE)
    token = _lookup(console)
    answer = console.post("/console/opt-outs/change",
                          {"token": token, "channel": "voice", "action": "out",
                           "reason": "asked by phone"}, page="/console/opt-outs")
    assert answer.status_code == 200
    store = OptOutStore(console.gateway.client, console.gateway.settings)
    assert store.is_opted_out(OPTED_OUT_NUMBER, Channel.VOICE)


def test_the_opt_in_button_is_secondary_and_asks_first(console: Console) -> None:
    console.sign_in(ALICE)
    found = console.post("/console/opt-outs/lookup", {"number": OPTED_OUT_NUMBER},
                         page="/console/opt-outs")
    form = re.search(r'<form[^>]*opt-outs/change.*?value="in".*?</form>', found.text, re.S)
    assert form, "no opt-in form for the opted-out channel"
    button = re.search(r"<button[^>]*>", form[0])
    assert button and 'class="plain"' in button[0] and "data-confirm=" in button[0]
    assert re.search(r'<input id="consent-sms" name="consent" type="checkbox" value="yes" '
                     r"required>", form[0])
    assert '<label for="consent-sms">Le patient a demandé' in form[0]


# Tables, headers and fields ---------------------------------------------------------------

def test_every_cell_of_a_card_table_names_its_column(console: Console) -> None:
    console.sign_in(ALICE)
    seen = 0
    for path in PAGES:
        cells = read(console.http.get(path).text)
        for table, tag, attrs in cells.cells:
            if "cards" not in table.split() or attrs.get("colspan"):
                continue
            if tag == "th" and attrs.get("scope") != "row":
                continue  # a column's own header
            seen += 1
            assert attrs.get("data-label"), (path, tag, attrs)
    assert seen > 40  # dead letters, queues, breakdowns, failures, clinics...


def test_no_header_cell_is_empty_and_every_field_has_a_label(console: Console) -> None:
    console.sign_in(ALICE)
    token = _lookup(console)
    assert token
    pages = {path: console.http.get(path).text for path in PAGES}
    pages["opt-out lookup"] = console.post(
        "/console/opt-outs/lookup", {"number": OPTED_OUT_NUMBER}, page="/console/opt-outs").text
    headers = 0
    for where, html in pages.items():
        cells = read(html)
        headers += len(cells.headers)
        assert all(cells.headers), (where, cells.headers)
        for field in cells.fields:
            labelled = (field.get("id") in cells.labels or field.get("aria-label")
                        or field.get("_wrapped"))
            assert labelled, (where, field)
        assert '<html lang="fr-CA">' in html
    assert headers > 50


def test_french_pages_show_no_english_sentence(console: Console) -> None:
    console.sign_in(ALICE)
    english = {en for key, (fr, en) in i18n.CATALOGUE.items()
               if fr != en and " " in en and "{" not in en
               and key != "switch_language.label"}  # the button that leads to English
    pages = {path: console.http.get(path).text for path in PAGES}
    pages["opt-out lookup"] = console.post(
        "/console/opt-outs/lookup", {"number": OPTED_OUT_NUMBER}, page="/console/opt-outs").text
    assert len(english) > 100
    for where, html in pages.items():
        leaked = sorted(text for text in english if f">{text}<" in html or f'"{text}"' in html)
        assert leaked == [], where


# Charts -----------------------------------------------------------------------------------

def _hue_degrees(colour: str) -> tuple[float, float]:
    red, green, blue = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    hue, _, saturation = colorsys.rgb_to_hls(red, green, blue)
    return hue * 360, saturation


def test_channels_and_statuses_have_palettes_of_their_own() -> None:
    assert set(CHANNEL_COLOURS) == {str(c) for c in Channel}
    assert set(STATUS_COLOURS) == {str(s) for s in DeliveryStatus}
    channel, status = set(CHANNEL_COLOURS.values()), set(STATUS_COLOURS.values())
    assert len(channel) == len(CHANNEL_COLOURS) and len(status) == len(STATUS_COLOURS)
    assert not channel & status
    failed, saturation = _hue_degrees(STATUS_COLOURS["failed"])
    assert (failed < 15 or failed > 345) and saturation > 0.5  # red
    delivered, saturation = _hue_degrees(STATUS_COLOURS["delivered"])
    assert 90 < delivered < 160 and saturation > 0.4  # green
    for colour in channel:  # no channel looks like a failure or a success
        hue, _ = _hue_degrees(colour)
        assert 170 < hue < 300, colour


def test_each_chart_draws_in_its_meanings_colours_with_its_numbers_in_a_table(
    console: Console,
) -> None:
    console.sign_in(ALICE)
    html = console.http.get("/console/").text
    charts = re.findall(r"<svg class=\"chart\".*?</svg>", html, re.S)
    assert len(charts) == 3  # schedule by hour, by day; deliveries over time
    *ahead, over_time = charts
    legend = re.compile(r'<rect x="[\d.]+" y="228" width="12" height="12" fill="(#\w+)"/>')
    for chart in ahead:
        assert set(legend.findall(chart)) == set(CHANNEL_COLOURS.values())
        assert 'role="img"' in chart and "aria-label=" in chart
    status_legend = set(legend.findall(over_time))
    assert status_legend and status_legend <= set(STATUS_COLOURS.values())
    assert set(re.findall(r'fill="(#\w+)"', over_time)) <= set(STATUS_COLOURS.values())

    numbers = re.findall(r'<details class="chart-numbers">.*?</details>', html, re.S)
    assert len(numbers) == 3
    caption = re.search(r"<caption>(.*?)</caption>", numbers[2])
    assert caption and caption[1] == "Envois dans le temps"
    assert '<th scope="col" class="n">échec</th>' in numbers[2]
    assert len(re.findall(r'<th scope="row">', numbers[2])) == 24  # one row per hour


# Colours of the text ---------------------------------------------------------------------

def _luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours."""
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_text_colours_read_at_4_5_to_1_at_least() -> None:
    variables = dict(re.findall(r"--([\w-]+):(#[0-9a-fA-F]{3,6})", CSS.read_text()))
    pairs = [("ink", "bg"), ("ink", "card"), ("muted", "card"), ("muted", "bg"),
             ("accent", "card"), ("accent", "bg"), ("good", "card"), ("warn", "card"),
             ("bad", "card"), ("header-ink", "header")]
    for text, ground in pairs:
        ratio = contrast(variables[text], variables[ground])
        assert ratio >= 4.5, (text, ground, round(ratio, 2))
    # Badges and notices draw text on tinted grounds.
    assert contrast(variables["good"], "#e8f5ee") >= 4.5
    assert contrast(variables["bad"], "#fdecea") >= 4.5
    assert contrast(variables["warn"], "#fff4e0") >= 4.5
    assert contrast(variables["muted"], "#fff4e0") >= 4.5
    assert contrast("#ffffff", variables["accent"]) >= 4.5  # primary buttons


# Fresh pages -----------------------------------------------------------------------------

def test_refreshing_pages_say_when_they_were_read_in_their_language(console: Console) -> None:
    console.sign_in(ALICE)
    for path in ("/console/", "/console/dead-letters", "/console/replies"):
        html = console.http.get(path).text
        read_at = re.search(r'data-read-at="([^"]+)"', html)
        assert read_at, path
        assert dt.datetime.fromisoformat(read_at[1]) == console.gateway.clock.now
        assert 'data-seconds="Mis à jour il y a {n} s"' in html
        assert 'data-minutes="Mis à jour il y a {n} min"' in html
        assert re.search(r'<input type="checkbox" id="refresh-toggle" data-refresh-toggle>\s*'
                         r'<label for="refresh-toggle">Actualiser', html)
