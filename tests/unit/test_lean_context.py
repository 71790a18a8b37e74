"""Each message renders from the values its templates read only: byte for byte what the
whole context gives, SMS segment counts and fitting steps included, over varied
appointments, settings and instants."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any
from unittest import mock

import jinja2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.domain import Appointment, Channel, CustomParagraphs, Kind, Lang
from notifier.messages import catalogue
from notifier.messages.catalogue import (
    CONTEXT_NAMES,
    TEMPLATES_DIR,
    Rendered,
    context,
    environment,
    render,
    template_names,
    template_variables,
)
from notifier.messages.samples import SAMPLE_NOW, longest_names, sample_state
from notifier.planning.entries import AppointmentState
from notifier.settings import Settings
from tests.strategies import PERSON_NAMES, clinic_texts, paragraphs

MESSAGES = [(kind, channel, lang) for kind in Kind for channel in Channel for lang in Lang]


def with_everything(env: jinja2.Environment, *templates: str) -> frozenset[str]:
    return CONTEXT_NAMES


def full_render(kind: Kind, channel: Channel, state: AppointmentState, settings: Settings,
                now: dt.datetime, **options: Any) -> Rendered:
    """The message rendered from the whole context, as every send did before."""
    with mock.patch.object(catalogue, "template_variables", with_everything):
        return render(kind, channel, state, settings, now, **options)


@st.composite
def appointments(draw: st.DrawFn) -> tuple[AppointmentState, dt.datetime]:
    """The sample appointment with drawn names, start, cancel window and paragraphs, and
    the instant it is rendered at."""
    lang = draw(st.sampled_from(Lang))
    base = sample_state(lang, self_serve=draw(st.booleans()),
                        hide_professional=draw(st.booleans()),
                        longest=draw(st.booleans()))
    appointment = base.appointment
    patient = appointment.patient
    location = appointment.location
    if draw(st.booleans()):
        patient = patient.model_copy(update={"first_name": draw(PERSON_NAMES)})
    if draw(st.booleans()):
        location = location.model_copy(update={"name": draw(clinic_texts(max_size=120))})
    if draw(st.booleans()):
        location = location.model_copy(update={"custom_paragraphs": {
            kind: CustomParagraphs(fr=draw(paragraphs(max_size=200)),
                                   en=draw(paragraphs(max_size=200)))
            for kind in draw(st.sets(st.sampled_from(Kind)))
        }})
    # On the hour or not, the first of a month or not, morning or afternoon.
    start = dt.datetime.combine(
        draw(st.dates(min_value=dt.date(2026, 12, 1), max_value=dt.date(2027, 12, 31))),
        dt.time(draw(st.integers(7, 20)), draw(st.sampled_from([0, 5, 30, 45]))),
        tzinfo=location.zone,
    )
    appointment = Appointment.model_validate(
        {**appointment.model_dump(), "start": start, "patient": patient,
         "location": location},
    )
    closes = start - dt.timedelta(minutes=draw(st.integers(0, 48 * 60)))
    now = closes + dt.timedelta(minutes=draw(st.integers(-60, 60)))
    state = dataclasses.replace(base, appointment=appointment,
                                cancel_closes_at=closes.astimezone(dt.UTC))
    return state, now.astimezone(dt.UTC)


SETTINGS = st.builds(
    Settings,
    sender_name=st.sampled_from(["Rendez-vous santé", "RVSQ"]),
    fee_notice_en=st.sampled_from(["Msg/data rates may apply", ""]),
    sms_segment_budget=st.integers(1, 4),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(appointment=appointments(), settings_=SETTINGS)
def test_every_message_renders_the_same_from_its_lean_context(
    appointment: tuple[AppointmentState, dt.datetime], settings_: Settings
) -> None:
    state, now = appointment
    lang = state.appointment.patient.language
    for kind, channel, _ in filter(lambda message: message[2] is lang, MESSAGES):
        outcomes = []
        for rendering in (render, full_render):
            try:
                outcomes.append(rendering(kind, channel, state, settings_, now))
            except Exception as refused:  # an SMS over the budget, refused both ways
                outcomes.append(repr(refused))
        lean, full = outcomes
        assert lean == full, (kind, channel, lang)


def test_the_longest_names_fit_the_same_way_from_the_lean_context() -> None:
    # The names step cuts only the names a template reads: the cut is the same.
    for kind, channel, lang in MESSAGES:
        state = sample_state(lang, longest=True)
        for budget in (1, 2, 3):
            settings_ = Settings(sms_segment_budget=budget)
            try:
                lean: object = render(kind, channel, state, settings_, SAMPLE_NOW)
            except Exception as refused:
                lean = repr(refused)
            try:
                full: object = full_render(kind, channel, state, settings_, SAMPLE_NOW)
            except Exception as refused:
                full = repr(refused)
            assert lean == full, (kind, channel, lang, budget)
    assert longest_names(Lang.FR).clinic in render(
        Kind.REMINDER, Channel.EMAIL, sample_state(Lang.FR, longest=True), Settings(),
        SAMPLE_NOW).text


def shipped(kind: Kind, channel: Channel, lang: Lang) -> frozenset[str]:
    return template_variables(environment(TEMPLATES_DIR),
                              *template_names(kind, channel, lang).values())


def test_a_message_reads_what_its_templates_and_their_parents_and_includes_read() -> None:
    # The SMS's cancel sentence is an included template; the email's facts, its layout.
    sms = shipped(Kind.CONFIRMATION, Channel.SMS, Lang.FR)
    assert {"first_name", "sms_date", "sms_time", "clinic", "cancel_link", "phone",
            "fee_notice"} <= sms
    assert not {"when_spoken", "address_lines", "date", "cancel_until"} & sms
    email = shipped(Kind.REMINDER, Channel.EMAIL, Lang.EN)
    assert {"date", "time", "reference", "address_lines", "cancel_until"} <= email
    assert "sms_date" not in email


def test_the_lean_context_holds_only_the_names_asked() -> None:
    state = sample_state(Lang.FR)
    values = context(Kind.REMINDER, Channel.SMS, state, Settings(), SAMPLE_NOW,
                     names={"first_name", "brief", "not_a_value"})
    assert values == {"first_name": state.appointment.patient.first_name, "brief": False}
    whole = context(Kind.REMINDER, Channel.SMS, state, Settings(), SAMPLE_NOW)
    assert set(whole) == CONTEXT_NAMES


def test_a_template_named_by_a_variable_gets_the_whole_context(tmp_path: Path) -> None:
    (tmp_path / "sms" / "fr").mkdir(parents=True)
    (tmp_path / "sms" / "fr" / "reminder.txt.j2").write_text(
        "{{ first_name }} {% include 'sms/fr/_' ~ kind ~ '.txt.j2' %}")
    (tmp_path / "sms" / "fr" / "_reminder.txt.j2").write_text("{{ clinic }} {{ sms_date }}")
    env = environment(tmp_path)
    assert template_variables(env, "sms/fr/reminder.txt.j2") == CONTEXT_NAMES
    rendered = render(Kind.REMINDER, Channel.SMS, sample_state(Lang.FR), Settings(),
                      SAMPLE_NOW, templates_dir=tmp_path)
    assert rendered.text == "Émilie Clinique médicale du Plateau 2026-12-01"
