"""Fitting an SMS within the segment budget: lookalike letters, optional sentences, names
cut, or no SMS at all; always with the longest names the event contract allows."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from notifier.domain import Address, Appointment, Channel, Kind, Lang, Location, Patient
from notifier.errors import SmsOverBudget
from notifier.messages.catalogue import (
    TEMPLATES_DIR,
    Rendered,
    context,
    environment,
    render,
    template_names,
)
from notifier.messages.fitting import CLINIC_MIN, FittedSms, Step, fit_sms, shorten
from notifier.messages.samples import SAMPLE_NOW, longest_allowed, longest_names, sample_state
from notifier.messages.sms import gsm7_lookalikes, is_gsm7, normalise_sms, sms_encoding
from notifier.planning.entries import AppointmentState
from notifier.settings import Settings

SETTINGS = Settings()


def named(state: AppointmentState, first_name: str, clinic: str | None = None) -> AppointmentState:
    appointment = state.appointment
    patient = appointment.patient.model_copy(update={"first_name": first_name})
    location = appointment.location
    if clinic is not None:
        location = location.model_copy(update={"name": clinic})
    return dataclasses.replace(state, appointment=appointment.model_copy(
        update={"patient": patient, "location": location}))


def sms(kind: Kind, state: AppointmentState, settings: Settings = SETTINGS) -> Rendered:
    rendered = render(kind, Channel.SMS, state, settings, SAMPLE_NOW)
    assert rendered.sms is not None
    return rendered


# Lookalike letters ---------------------------------------------------------------------


def test_lookalikes_replace_only_what_gsm7_lacks() -> None:
    text = "Jérôme, Ève-Hélène Côté-Bélanger, François, Chloë, Œuvre « oui » l’été à Ça"
    assert gsm7_lookalikes(text) == (
        "Jérome, Eve-Hélène Coté-Bélanger, Francois, Chloe, Oeuvre << oui >> l'été à Ça"
    )


def test_a_character_with_no_latin_reading_leaves_no_space_behind() -> None:
    # A variation selector and a private-use character transliterate to nothing.
    assert gsm7_lookalikes("\ue000Zoë \ufe0f Côté \ue000") == "Zoe Coté"


@given(st.text())
def test_lookalikes_are_always_gsm7(text: str) -> None:
    assert is_gsm7(gsm7_lookalikes(text))


def test_a_decomposed_accent_stays_in_gsm7() -> None:
    assert normalise_sms("Je\u0301ro\u0302me") == "Jérôme"
    assert is_gsm7(normalise_sms("Ame\u0301lie"))


# The order of the steps ----------------------------------------------------------------


def test_an_sms_within_the_budget_is_sent_as_written_even_in_ucs2() -> None:
    rendered = sms(Kind.REMINDER, named(sample_state(Lang.FR), "Gaëtan"))
    assert "Gaëtan" in rendered.text and rendered.fitted == ()
    assert rendered.sms is not None and rendered.sms.encoding == "UCS-2"


@pytest.mark.parametrize(("lang", "first_name", "kept"), [
    (Lang.FR, "Jérôme", "Jérome"),
    (Lang.FR, "Ève-Hélène Côté-Bélanger", "Eve-Hélène Coté-Bélanger"),
    (Lang.EN, "Ève-Hélène Côté-Bélanger", "Eve-Hélène Coté-Bélanger"),
])
def test_lookalike_letters_alone_bring_a_confirmation_back_to_gsm7(
    lang: Lang, first_name: str, kept: str
) -> None:
    state = named(sample_state(lang), first_name)
    as_written = normalise_sms(render_template(Kind.CONFIRMATION, state))
    assert sms_encoding(as_written).segments > SETTINGS.sms_segment_budget

    rendered = sms(Kind.CONFIRMATION, state)

    assert rendered.fitted == (Step.LOOKALIKES,)
    assert rendered.sms is not None and rendered.sms.encoding == "GSM-7"
    assert rendered.sms.segments <= SETTINGS.sms_segment_budget
    assert kept in rendered.text


def sms_template(kind: Kind, state: AppointmentState) -> jinja2.Template:
    """The shipped SMS template of ``kind`` in the patient's language."""
    name = template_names(kind, Channel.SMS, state.appointment.patient.language)["text"]
    return environment(TEMPLATES_DIR).get_template(name)


def render_template(kind: Kind, state: AppointmentState) -> str:
    """The body as the template writes it, before any fitting."""
    values = context(kind, Channel.SMS, state, SETTINGS, SAMPLE_NOW)
    return sms_template(kind, state).render(values)


def fitted_counting_renders(kind: Kind, state: AppointmentState) -> tuple[FittedSms, int]:
    """The SMS fitted to the default budget, and how many times its template rendered."""
    template = sms_template(kind, state)
    renders = 0

    def compose(values: Mapping[str, Any]) -> str:
        nonlocal renders
        renders += 1
        return normalise_sms(template.render(values))

    values = context(kind, Channel.SMS, state, SETTINGS, SAMPLE_NOW)
    return fit_sms(compose, values, budget=SETTINGS.sms_segment_budget), renders


@pytest.mark.parametrize(("first_name", "steps"), [
    ("Émilie", ()),
    ("Jérôme", (Step.LOOKALIKES,)),
])
def test_an_sms_that_fits_as_written_or_by_its_letters_renders_once(
    first_name: str, steps: tuple[Step, ...]
) -> None:
    fitted, renders = fitted_counting_renders(
        Kind.CONFIRMATION, named(sample_state(Lang.FR), first_name))
    assert fitted.steps == steps
    assert renders == 1


def test_cutting_names_renders_a_few_times_not_once_per_length() -> None:
    first_name = ("Marie-Ève-Hélène Côté " * 10)[:200].strip()
    clinic = ("Clinique médicale Saint-Jérôme de l'Île-Bizard " * 5)[:200].strip()
    fitted, renders = fitted_counting_renders(
        Kind.REMINDER, named(sample_state(Lang.FR), first_name, clinic))
    assert fitted.steps == (Step.LOOKALIKES, Step.NAMES)
    # As written, without its optional sentences, the shortest cut, then halving the
    # range of lengths left.
    longest = max(len(first_name), len(clinic))
    assert renders <= 3 + (longest - 1).bit_length()


def test_optional_sentences_go_before_any_name_is_cut() -> None:
    # Names long enough that the no-show message only fits without its last sentence.
    first_name, clinic = ("Sarah " * 40)[:200], ("Clinique du Plateau " * 10)[:150]
    state = named(sample_state(Lang.EN), first_name, clinic)
    rendered = sms(Kind.NO_SHOW, state)
    assert rendered.fitted == (Step.OPTIONAL,)
    assert "Next time" not in rendered.text
    assert first_name in rendered.text and clinic.strip() in rendered.text


@pytest.mark.parametrize(("value", "length", "expected"), [
    ("Jérôme", 6, "Jérôme"),
    ("Jérôme", 5, "Jé..."),
    ("Jérôme", 3, "J."),
    ("Jérôme", 1, "J."),
    ("Clinique du Plateau-Mont-Royal", 24, "Clinique du Plateau-M..."),
    # Never a dangling hyphen or space before the ellipsis.
    ("Clinique du Plateau-Mont-Royal", 23, "Clinique du Plateau..."),
    ("Clinique du Plateau-Mont-Royal", 22, "Clinique du Plateau..."),
])
def test_shorten(value: str, length: int, expected: str) -> None:
    assert shorten(value, length, initial=True) == expected


# The longest names the contract allows --------------------------------------------------


def test_the_longest_names_are_the_contracts_bounds() -> None:
    appointment = sample_state(Lang.FR).appointment
    samples: dict[type[BaseModel], dict[str, Any]] = {
        Patient: appointment.patient.model_dump(),
        Appointment: appointment.model_dump(),
        Location: appointment.location.model_dump(),
        Address: appointment.location.address.model_dump(),
    }
    for lang in Lang:
        names = longest_names(lang)
        for model, field, value in (
            (Patient, "first_name", names.first_name),
            (Patient, "last_name", names.last_name),
            (Appointment, "professional_name", names.professional),
            (Location, "name", names.clinic),
            (Address, "street", names.street),
            (Address, "city", names.city),
        ):
            assert len(value) == longest_allowed(model, field)
            # Accepted as they are, refused one character longer.
            valid = samples[model]
            assert getattr(model.model_validate({**valid, field: value}), field) == value
            with pytest.raises(ValidationError):
                model.model_validate({**valid, field: value + "e"})


KINDS_AND_VARIANTS = [
    (kind, lang, cancel_open)
    for kind in Kind for lang in Lang for cancel_open in (True, False)
]


@pytest.mark.parametrize(("kind", "lang", "cancel_open"), KINDS_AND_VARIANTS)
def test_every_sms_with_the_longest_names_fits_and_keeps_what_matters(
    kind: Kind, lang: Lang, cancel_open: bool
) -> None:
    state = sample_state(lang, longest=True, cancel_open=cancel_open)
    values = context(kind, Channel.SMS, state, SETTINGS, SAMPLE_NOW)

    rendered = sms(kind, state)

    assert rendered.sms is not None and rendered.sms.encoding == "GSM-7"
    assert rendered.sms.segments <= SETTINGS.sms_segment_budget
    assert rendered.sms == sms_encoding(rendered.text)
    # The date and time, and the cancel link or the clinic's phone, the opt-out words
    # and the fee notice where the template has them, are never shortened.
    template = render_template(kind, state)
    for whole in (values["sms_date"], values["sms_time"], values["cancel_link"],
                  values["phone"], values["fee_notice"], "ARRET", "STOP"):
        if whole and whole in template:
            assert whole in rendered.text
    assert "...." not in rendered.text


def test_a_name_is_cut_no_more_than_needed_and_the_clinic_keeps_its_start() -> None:
    first_name = ("Marie-Ève-Hélène Côté " * 10)[:200].strip()
    clinic = ("Clinique médicale Saint-Jérôme de l'Île-Bizard " * 5)[:200].strip()
    rendered = sms(Kind.REMINDER, named(sample_state(Lang.FR), first_name, clinic))
    assert rendered.fitted == (Step.LOOKALIKES, Step.NAMES)
    assert gsm7_lookalikes(clinic)[:CLINIC_MIN] in rendered.text
    assert gsm7_lookalikes(first_name)[:100] in rendered.text
    # Cut as little as needed: the body fills its three segments to within a few
    # characters (one more character per name would not fit).
    assert rendered.sms is not None and rendered.sms.characters > 3 * 153 - 5


def test_an_sms_that_cannot_fit_even_shortened_is_refused() -> None:
    tight = Settings(sms_segment_budget=1)
    state = sample_state(Lang.FR, longest=True)
    with pytest.raises(SmsOverBudget) as refused:
        render(Kind.CONFIRMATION, Channel.SMS, state, tight, SAMPLE_NOW)
    assert refused.value.budget == 1 and refused.value.segments == 2
    # Email and voice have no segments: never refused for their length.
    for channel in (Channel.EMAIL, Channel.VOICE):
        assert render(Kind.CONFIRMATION, channel, state, tight, SAMPLE_NOW).sms is None


def test_fee_notice_and_replies_still_fit_with_default_settings() -> None:
    from notifier.inbound.keywords import KeywordKind
    from notifier.inbound.replies import REPLY_LANGS, render_reply_text

    for reply_lang in REPLY_LANGS:
        for kind in KeywordKind:
            assert sms_encoding(render_reply_text(kind, reply_lang, SETTINGS)).segments == 1
    for lang in Lang:
        assert is_gsm7(SETTINGS.fee_notice(lang))
