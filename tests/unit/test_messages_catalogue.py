"""The message catalogue: every template renders, and says only what it may."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from pathlib import Path

import jinja2
import pytest

from notifier.domain import Channel, CustomParagraphs, Kind, Lang
from notifier.messages.catalogue import Rendered, render
from notifier.messages.samples import SAMPLE_NOW, sample_state
from notifier.messages.sms import is_gsm7, normalise_sms
from notifier.messages.text_checks import web_addresses
from notifier.planning.entries import AppointmentState
from notifier.settings import Settings

SETTINGS = Settings()
ALL = list(itertools.product(Kind, Channel, Lang))
WITH_LINK = (Kind.CONFIRMATION, Kind.MODIFICATION, Kind.REMINDER)
PHONE = {Lang.FR: "514 555-0123", Lang.EN: "514-555-0123"}
SPOKEN_PHONE = "5 1 4, 5 5 5, 0 1 2 3"


def everything(rendered: Rendered) -> str:
    return "\n".join(p for p in (rendered.subject, rendered.text, rendered.html) if p)


def with_paragraphs(state: AppointmentState, kind: Kind, fr: str, en: str) -> AppointmentState:
    location = state.appointment.location.model_copy(
        update={"custom_paragraphs": {kind: CustomParagraphs(fr=fr, en=en)}}
    )
    appointment = state.appointment.model_copy(update={"location": location})
    return dataclasses.replace(state, appointment=appointment)


@pytest.mark.parametrize(("kind", "channel", "lang"), ALL)
def test_every_message_renders(kind: Kind, channel: Channel, lang: Lang) -> None:
    rendered = render(kind, channel, sample_state(lang), SETTINGS, SAMPLE_NOW)
    assert (rendered.kind, rendered.channel, rendered.lang) == (kind, channel, lang)
    assert rendered.text.strip()
    first = sample_state(lang).appointment.patient.first_name
    assert first in rendered.text
    assert "Clinique médicale du Plateau" in rendered.text
    assert (rendered.subject is not None) == (channel is Channel.EMAIL)
    assert (rendered.html is not None) == (channel is Channel.EMAIL)
    assert (rendered.sms is not None) == (channel is Channel.SMS)
    if channel is Channel.SMS:
        assert rendered.sms is not None
        assert rendered.text == normalise_sms(rendered.text)
        # The shipped French and English texts avoid letters outside GSM-7.
        assert rendered.sms.encoding == "GSM-7", rendered.text
        assert rendered.sms.segments <= SETTINGS.sms_segment_budget
        assert "2026-12-01" in rendered.text and "09:30" in rendered.text
    if channel is Channel.EMAIL:
        assert rendered.subject is not None and "\n" not in rendered.subject
        assert rendered.html is not None and rendered.html.startswith("<!DOCTYPE html>")
        assert f'<html lang="{lang}">' in rendered.html
        for fact in ("1234567890", PHONE[lang], "Clinique médicale du Plateau"):
            assert fact in rendered.text and fact in rendered.html


@pytest.mark.parametrize(("kind", "channel", "lang"), ALL)
def test_no_last_name_and_no_patient_contact(kind: Kind, channel: Channel, lang: Lang) -> None:
    state = sample_state(lang)
    patient = state.appointment.patient
    text = everything(render(kind, channel, state, SETTINGS, SAMPLE_NOW))
    assert patient.last_name not in text
    assert patient.email is not None and patient.email not in text
    assert "5550188" not in text and "555-0188" not in text  # the patient's own mobile


@pytest.mark.parametrize(("kind", "channel", "lang"), ALL)
def test_cancel_link_only_while_open_and_self_serve(
    kind: Kind, channel: Channel, lang: Lang
) -> None:
    link = SETTINGS.cancel_link("1234567890", lang)
    for self_serve, cancel_open in itertools.product((True, False), repeat=2):
        state = sample_state(lang, self_serve=self_serve, cancel_open=cancel_open)
        rendered = render(kind, channel, state, SETTINGS, SAMPLE_NOW)
        offered = link in rendered.text
        expected = (
            self_serve and cancel_open and kind in (*WITH_LINK, Kind.CONTACT_CHANGE)
            and channel is not Channel.VOICE
            and not (channel is Channel.SMS and kind is Kind.CONTACT_CHANGE)
        )
        assert offered == expected, (self_serve, cancel_open)
        if rendered.html is not None:
            assert ("&amp;l=" in rendered.html) == expected
        if not offered and kind in WITH_LINK:
            phone = SPOKEN_PHONE if channel is Channel.VOICE else PHONE[lang]
            assert phone in rendered.text


def test_cancel_link_closes_at_the_deadline() -> None:
    state = sample_state(Lang.FR)
    link = SETTINGS.cancel_link("1234567890", Lang.FR)
    just_before = state.cancel_closes_at - dt.timedelta(seconds=1)
    assert link in render(Kind.REMINDER, Channel.SMS, state, SETTINGS, just_before).text
    at_deadline = render(Kind.REMINDER, Channel.SMS, state, SETTINGS, state.cancel_closes_at)
    assert link not in at_deadline.text
    assert "Pour annuler, appelez la clinique au 514 555-0123." in at_deadline.text


@pytest.mark.parametrize(("kind", "channel", "lang"), ALL)
def test_hidden_professional_name(kind: Kind, channel: Channel, lang: Lang) -> None:
    shown = render(kind, channel, sample_state(lang), SETTINGS, SAMPLE_NOW)
    hidden = render(kind, channel, sample_state(lang, hide_professional=True), SETTINGS,
                    SAMPLE_NOW)
    assert "Catherine Roy" not in everything(hidden)
    # Only email names the professional at all: SMS and voice carry the minimum.
    assert ("Catherine Roy" in everything(shown)) == (channel is Channel.EMAIL)


@pytest.mark.parametrize(("kind", "channel", "lang"), ALL)
def test_custom_paragraph_only_in_email_and_its_language(
    kind: Kind, channel: Channel, lang: Lang
) -> None:
    state = with_paragraphs(sample_state(lang), kind, fr="Stationnement au sous-sol.",
                            en="Parking in the basement.")
    text = everything(render(kind, channel, state, SETTINGS, SAMPLE_NOW))
    mine = "Stationnement au sous-sol." if lang is Lang.FR else "Parking in the basement."
    theirs = "Parking in the basement." if lang is Lang.FR else "Stationnement au sous-sol."
    assert (mine in text) == (channel is Channel.EMAIL)
    assert theirs not in text
    other_kind = Kind.NO_SHOW if kind is not Kind.NO_SHOW else Kind.REMINDER
    elsewhere = with_paragraphs(sample_state(lang), other_kind, fr="Stationnement au sous-sol.",
                                en="Parking in the basement.")
    assert mine not in everything(render(kind, channel, elsewhere, SETTINGS, SAMPLE_NOW))


def test_custom_paragraph_is_escaped_in_html_only() -> None:
    state = with_paragraphs(sample_state(Lang.EN), Kind.REMINDER, fr="x",
                            en="Bring <b>both</b> cards & your list.")
    rendered = render(Kind.REMINDER, Channel.EMAIL, state, SETTINGS, SAMPLE_NOW)
    assert "Bring <b>both</b> cards & your list." in rendered.text
    assert rendered.html is not None
    assert "Bring &lt;b&gt;both&lt;/b&gt; cards &amp; your list." in rendered.html


@pytest.mark.parametrize(("kind", "lang"), list(itertools.product(Kind, Lang)))
def test_voice_is_written_to_be_heard(kind: Kind, lang: Lang) -> None:
    rendered = render(kind, Channel.VOICE, sample_state(lang), SETTINGS, SAMPLE_NOW)
    assert web_addresses(rendered.text) == []
    assert "http" not in rendered.text
    assert SPOKEN_PHONE in rendered.text
    assert "2026-12-01" not in rendered.text
    assert "décembre" in rendered.text or "December" in rendered.text
    assert SETTINGS.sender_name in rendered.text
    again = "appuyez sur le 1" if lang is Lang.FR else "press 1"
    assert again in rendered.text
    assert ".." not in rendered.text


def test_stop_word_in_the_confirmation() -> None:
    fr = render(Kind.CONFIRMATION, Channel.SMS, sample_state(Lang.FR), SETTINGS, SAMPLE_NOW)
    en = render(Kind.CONFIRMATION, Channel.SMS, sample_state(Lang.EN), SETTINGS, SAMPLE_NOW)
    assert "Textez ARRET pour ne plus recevoir de textos" in fr.text
    assert "Text STOP to opt out" in en.text
    assert SETTINGS.fee_notice(Lang.FR) in fr.text
    assert SETTINGS.fee_notice(Lang.EN) in en.text


def test_reference_reminder_wording() -> None:
    rendered = render(Kind.REMINDER, Channel.SMS, sample_state(Lang.FR), SETTINGS, SAMPLE_NOW)
    assert rendered.text == (
        "Rappel RV Émilie le 2026-12-01 à 09:30 - Clinique médicale du Plateau. "
        "Annuler : https://rendez-vous.example.org/?r=1234567890&l=f "
        "Frais msg/données applicables"
    )
    assert rendered.sms is not None and rendered.sms.segments == 1


def test_times_are_the_locations_local_time() -> None:
    state = sample_state(Lang.EN)
    location = state.appointment.location.model_copy(update={"time_zone": "America/Vancouver"})
    start = dt.datetime(2026, 12, 1, 17, 30, tzinfo=dt.UTC)  # 9:30 in Vancouver
    appointment = state.appointment.model_copy(update={"location": location, "start": start})
    moved = dataclasses.replace(state, appointment=appointment)
    rendered = render(Kind.REMINDER, Channel.SMS, moved, SETTINGS, SAMPLE_NOW)
    assert "2026-12-01 at 09:30" in rendered.text


def test_settings_flow_into_messages() -> None:
    settings = Settings(sender_name="RVSQ", fee_notice_en="Msg&data rates apply",
                        cancel_link_pattern="https://x.example/c/{reference}/{lang}")
    sms = render(Kind.REMINDER, Channel.SMS, sample_state(Lang.EN), settings, SAMPLE_NOW)
    assert "https://x.example/c/1234567890/a" in sms.text
    assert sms.text.endswith("Msg&data rates apply")
    voice = render(Kind.REMINDER, Channel.VOICE, sample_state(Lang.EN), settings, SAMPLE_NOW)
    assert "from RVSQ for Sarah" in voice.text


def test_strict_undefined_and_missing_template(tmp_path: Path) -> None:
    (tmp_path / "sms" / "en").mkdir(parents=True)
    (tmp_path / "sms" / "en" / "reminder.txt.j2").write_text("Hi {{ last_name }}")
    with pytest.raises(jinja2.UndefinedError):
        render(Kind.REMINDER, Channel.SMS, sample_state(Lang.EN), SETTINGS, SAMPLE_NOW,
               templates_dir=tmp_path)
    with pytest.raises(jinja2.TemplateNotFound):
        render(Kind.NO_SHOW, Channel.SMS, sample_state(Lang.EN), SETTINGS, SAMPLE_NOW,
               templates_dir=tmp_path)


def test_naive_now_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        render(Kind.REMINDER, Channel.SMS, sample_state(Lang.EN), SETTINGS,
               SAMPLE_NOW.replace(tzinfo=None))


def test_gsm_note_for_names_outside_gsm7() -> None:
    # Within the segment budget a name is sent as written: the count shows the cost.
    state = sample_state(Lang.FR)
    patient = state.appointment.patient.model_copy(update={"first_name": "Gaëtan"})
    appointment = state.appointment.model_copy(update={"patient": patient})
    renamed = dataclasses.replace(state, appointment=appointment)
    rendered = render(Kind.REMINDER, Channel.SMS, renamed, SETTINGS, SAMPLE_NOW)
    assert "Gaëtan" in rendered.text and not is_gsm7(rendered.text)
    assert rendered.sms is not None and rendered.sms.encoding == "UCS-2"
