"""What booking systems and clinics type goes into every message: hypothesis renders every
kind x channel x language with any first name, clinic name, address and custom paragraph
the contract accepts, and checks that nothing crashes, that no input becomes markup in the
email's HTML, that no input is run as a template, and that SMS bodies stay normalised."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

import markupsafe
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from notifier import text_rules
from notifier.channels.twilio.twiml import call_twiml
from notifier.domain import Appointment, Channel, Kind, Lang
from notifier.messages.catalogue import Rendered, render
from notifier.messages.samples import SAMPLE_NOW, sample_state
from notifier.planning.entries import AppointmentState
from notifier.settings import Settings
from tests.strategies import PERSON_NAMES, accepted_by, clinic_texts, paragraphs

SETTINGS = Settings(public_base_url="https://gateway.example.org")
MESSAGES = [(kind, channel, lang) for kind in Kind for channel in Channel for lang in Lang]

HOSTILE = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "\"><a href='javascript:alert(1)'>",
    "{{ 7*7 }}",
    "{% for x in range(9) %}{{ x }}{% endfor %}",
    "{{ config }}{{ self.__init__.__globals__ }}",
    "{# a comment #}",
    "${7*7} #{7*7} %(x)s {0}",
    "Zoé\u202eenilarg\u200f\u200e",
    "👩🏽‍⚕️🇨🇦",
    "Émilie\u00a0Côté\u202fà\u2009l'École",
    "\r\nBcc: intruder@example.net",
    "]]><Say>injected</Say>",
    "&amp; &lt; &#60;",
    "x" * 200,
]

# Hostile text the contract still lets through, by role (bidirectional overrides, joiners
# and line breaks it refuses everywhere: see test_intake_refusals).
HOSTILE_NAMES = ["O’Neil-d'Arc. .", "Zo" + "\u0301" * 48, "𝐙𝐨𝐞", "ʼʼ-ǅ" * 10, "ـــ" * 16]
HOSTILE_CLINIC = list(filter(accepted_by(text_rules.clinic_text), HOSTILE))
HOSTILE_PARAGRAPHS = list(filter(accepted_by(text_rules.paragraph), HOSTILE))
NAMES = st.one_of(st.sampled_from(HOSTILE_NAMES), PERSON_NAMES)
CLINIC = st.one_of(st.sampled_from(HOSTILE_CLINIC), clinic_texts())
PARAGRAPHS = st.one_of(st.sampled_from(HOSTILE_PARAGRAPHS), paragraphs())
TEMPLATE_SYNTAX = ("{{", "{%", "{#")


def state_with(
    lang: Lang, *, first_name: str, clinic: str, street: str, city: str, office: str | None,
    paragraph: str,
) -> AppointmentState:
    """The sample appointment with the given inputs, validated by the event contract."""
    base = sample_state(lang)
    data: dict[str, Any] = base.appointment.model_dump(mode="json")
    data["patient"]["first_name"] = first_name
    location = data["location"]
    location["name"] = clinic
    location["address"].update(street=street, city=city, office=office)
    location["custom_paragraphs"] = {
        str(kind): {str(lang): paragraph} for kind in Kind
    }
    appointment = Appointment.model_validate(data)
    return AppointmentState(appointment=appointment, version=base.version,
                            cancel_closes_at=base.cancel_closes_at)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[tuple[str, str]] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update((tag, name) for name, _ in attrs)


def markup_of(html: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The tag names and (tag, attribute) pairs an HTML document is made of."""
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags, parser.attributes


def plain(lang: Lang) -> AppointmentState:
    return state_with(lang, first_name="Marie", clinic="Clinique", street="rue Principale",
                      city="Québec", office=None, paragraph="Bienvenue.")


# What each email is made of with harmless inputs: hostile inputs may add no tag, no
# attribute (an onerror=, an href= of their own).
TEMPLATE_MARKUP = {
    (kind, lang): markup_of(render(kind, Channel.EMAIL, plain(lang), SETTINGS, SAMPLE_NOW).html
                            or "")
    for kind in Kind for lang in Lang
}


def check_sms(rendered: Rendered) -> None:
    text = rendered.text
    assert text == text.strip()
    assert not any(ch.isspace() and ch != " " for ch in text), "an odd space or line break"
    assert "\u00a0" not in text and "\u202f" not in text
    assert "  " not in text
    assert rendered.sms is not None and rendered.sms.segments >= 1
    # Whatever was typed, the SMS fits the budget (render refuses one that cannot).
    assert rendered.sms.segments <= SETTINGS.sms_segment_budget


def check_email(rendered: Rendered, kind: Kind, lang: Lang, inputs: list[str]) -> None:
    assert rendered.subject is not None and "\n" not in rendered.subject
    assert "\r" not in rendered.subject
    html = rendered.html or ""
    tags, attributes = markup_of(html)
    expected_tags, expected_attributes = TEMPLATE_MARKUP[kind, lang]
    assert tags <= expected_tags, f"new tags: {tags - expected_tags}"
    assert attributes <= expected_attributes, f"new attributes: {attributes - expected_attributes}"
    for value in inputs:
        if value in HOSTILE and "<" in value:  # (random text may match the template's own)
            assert value not in html


def check_voice(rendered: Rendered, lang: Lang) -> None:
    twiml = call_twiml(rendered.text, lang, key="1234567890:reminder:voice:1:x",
                       settings=SETTINGS)
    root = ET.fromstring(twiml)  # well-formed, whatever was said
    spoken = " ".join(say.text or "" for say in root.iter("Say"))
    assert rendered.text in spoken
    assert {element.tag for element in root.iter()} <= {
        "Response", "Gather", "Say", "Pause", "Hangup", "Redirect"
    }


@pytest.mark.parametrize(("kind", "channel", "lang"), MESSAGES,
                         ids=[f"{k}-{c}-{la}" for k, c, la in MESSAGES])
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(first_name=NAMES, clinic=CLINIC, street=CLINIC, city=CLINIC,
       office=st.none() | clinic_texts(min_size=0, max_size=40), paragraph=PARAGRAPHS)
@example(first_name=HOSTILE_NAMES[0], clinic=HOSTILE[1], street=HOSTILE[2], city=HOSTILE[3],
         office="<b>", paragraph=HOSTILE[4])
def test_any_input_renders_safely_on_every_channel(
    kind: Kind, channel: Channel, lang: Lang, first_name: str, clinic: str, street: str,
    city: str, office: str | None, paragraph: str,
) -> None:
    state = state_with(lang, first_name=first_name, clinic=clinic, street=street, city=city,
                       office=office, paragraph=paragraph)

    rendered = render(kind, channel, state, SETTINGS, SAMPLE_NOW)

    assert rendered.text.strip()
    if channel is Channel.SMS:
        check_sms(rendered)
    elif channel is Channel.EMAIL:
        check_email(rendered, kind, lang, [first_name, clinic, street, city, paragraph])
    else:
        check_voice(rendered, lang)


@pytest.mark.parametrize(("kind", "channel", "lang"), MESSAGES,
                         ids=[f"{k}-{c}-{la}" for k, c, la in MESSAGES])
@pytest.mark.parametrize("name", ["{{ 7*7 }}", "{% if true %}oui{% endif %}", "{# x #}"])
def test_template_syntax_in_a_name_is_shown_as_typed_never_run(
    kind: Kind, channel: Channel, lang: Lang, name: str
) -> None:
    marker = state_with(lang, first_name="Marie", clinic="Marqueur", street="rue Principale",
                        city="Québec", office=None, paragraph="Bienvenue.")
    hostile = state_with(lang, first_name="Marie", clinic=name, street="rue Principale",
                         city="Québec", office=None, paragraph=name)

    shown = render(kind, channel, marker, SETTINGS, SAMPLE_NOW)
    rendered = render(kind, channel, hostile, SETTINGS, SAMPLE_NOW)

    parts = {"text": (shown.text, rendered.text),
             "html": (shown.html or "", rendered.html or "")}
    for part, (with_marker, with_name) in parts.items():
        if "Marqueur" in with_marker:
            literal = str(markupsafe.escape(name)) if part == "html" else name
            assert literal in with_name, part
        assert "49" not in with_name.replace(with_marker, "") or "49" in with_marker
        assert "oui" not in with_name.replace("{% if true %}oui{% endif %}", "")


@pytest.mark.parametrize("where", ["first_name", "clinic"])
def test_a_name_cannot_add_an_email_header(where: str) -> None:
    # A line break would start a header of its own: the contract refuses it.
    names = {"first_name": "Marie", "clinic": "Clinique", where: "Marie\r\nBcc: x@example.net"}
    with pytest.raises(ValidationError, match="line breaks"):
        state_with(Lang.FR, first_name=names["first_name"], clinic=names["clinic"],
                   street="rue", city="Québec", office=None, paragraph="x")


def test_rendering_time_does_not_depend_on_hostile_input_size() -> None:
    # Sanity on the slowest path: the longest inputs the contract allows, every message.
    state = state_with(Lang.FR, first_name="é" * text_rules.PERSON_NAME_MAX, clinic="{{" * 100,
                       street="<" * 200, city="&" * 200, office="x" * 40,
                       paragraph="\u0301" * 1000)
    started = dt.datetime.now()

    for kind, channel, _ in MESSAGES:
        render(kind, channel, state, SETTINGS, SAMPLE_NOW)

    assert dt.datetime.now() - started < dt.timedelta(seconds=5)


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x1b", "\uffff"],
                         ids=["nul", "start-of-heading", "escape", "non-character"])
def test_a_control_character_in_a_name_is_refused_by_the_contract(character: str) -> None:
    # TwiML and SMS cannot carry them: the event is refused before anything is stored.
    with pytest.raises(ValidationError, match="control characters"):
        state_with(Lang.FR, first_name=f"Zoé{character}", clinic="Clinique",
                   street="rue Principale", city="Québec", office=None, paragraph="x")
