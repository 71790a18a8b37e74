"""A made-up clinic, patient and appointment for previews, the template lint and tests.

All data here is fake: 555-01xx numbers are reserved for fiction, example.org for examples.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from pydantic import BaseModel

from notifier.domain import (
    Address,
    Appointment,
    Channel,
    CustomParagraphs,
    Kind,
    Lang,
    Location,
    Patient,
)
from notifier.planning.entries import AppointmentState

SAMPLE_TIME_ZONE = "America/Toronto"
SAMPLE_REFERENCE = "1234567890"
# Friday 27 November 2026, 10:00 in Montréal: the sample appointment is four days later,
# on Tuesday 1 December at 9:30, so online cancellation is open at this instant.
SAMPLE_NOW = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)
_DAYS_AHEAD = 4
_START_TIME = dt.time(9, 30)

SAMPLE_PARAGRAPHS = {
    Kind.CONFIRMATION: CustomParagraphs(
        fr="Apportez votre carte d'assurance maladie et la liste de vos médicaments.",
        en="Please bring your health card and a list of your medications.",
    ),
    Kind.REMINDER: CustomParagraphs(
        fr="Veuillez vous présenter 15 minutes avant l'heure de votre rendez-vous.",
        en="Please arrive 15 minutes before your appointment time.",
    ),
}

SAMPLE_LOCATION = Location(
    id="plateau",
    name="Clinique médicale du Plateau",
    phone="+15145550123",
    address=Address(
        number="4321",
        street="avenue du Mont-Royal Est",
        office="200",
        city="Montréal",
        province="QC",
        postal_code="H2J 1X5",
    ),
    time_zone=SAMPLE_TIME_ZONE,
    cancellation_notice_minutes=24 * 60,
    no_show_message=True,
    custom_paragraphs=SAMPLE_PARAGRAPHS,
)

# One sample person per language, each with a name as common in that language.
_PATIENTS = {
    Lang.FR: ("Émilie", "Tremblay", "emilie.tremblay@example.org", "Dre Catherine Roy"),
    Lang.EN: ("Sarah", "Thompson", "sarah.thompson@example.org", "Dr. Catherine Roy"),
}



def longest_allowed(model: type[BaseModel], field: str) -> int:
    """The most characters the event contract accepts in one text field of ``model``, as
    its published schema states it (a rule may bound a field more tightly than its type,
    so that older stored values still load)."""
    schema = model.model_json_schema()["properties"][field]
    for variant in (schema, *schema.get("anyOf", ())):
        if "maxLength" in variant:
            return int(variant["maxLength"])
    raise LookupError(f"{model.__name__}.{field} has no length bound")


def filled(seed: str, length: int) -> str:
    """``seed`` said again and again, to exactly ``length`` characters, ending on a letter."""
    text = " ".join([seed] * (length // len(seed) + 1))[:length]
    return text if text[-1].isalpha() else text[:-1] + seed[0]


@dataclass(frozen=True)
class LongestNames:
    """Names as long as the event contract allows, with letters GSM-7 lacks (ê, ô, ë)
    that turn an SMS into UCS-2: the worst case for the segment budget.

    Parameters:
      first_name, last_name: the patient's.
      professional: the professional's name.
      clinic: the location's name.
      street, city: the location's address.
    """

    first_name: str
    last_name: str
    professional: str
    clinic: str
    street: str
    city: str


_LONGEST_SEEDS = {
    Lang.FR: ("Marie-Ève-Hélène Côté", "Dre Geneviève Lévesque-Bélanger",
              "Clinique médicale Saint-Jérôme de l'Île-Bizard", "boulevard Côte-Vertu Ouest",
              "Sainte-Geneviève-de-Berthier"),
    Lang.EN: ("Mary-Jane Zoë O'Brien-Côté", "Dr. Chloë MacDonald-Fitzgerald",
              "St. Lawrence Family Health Team of Côte-des-Neiges", "Chemin de la Côte-Saint-Luc",
              "Notre-Dame-de-l'Île-Perrot"),
}


@cache  # the lint asks for them once per message; building the schemas is the slow part
def longest_names(lang: Lang) -> LongestNames:
    """Every name an SMS, a call or an email may carry, as long as the contract allows,
    in names common in ``lang``."""
    first, professional, clinic, street, city = _LONGEST_SEEDS[lang]
    return LongestNames(
        first_name=filled(first, longest_allowed(Patient, "first_name")),
        last_name=filled(first.split()[-1], longest_allowed(Patient, "last_name")),
        professional=filled(professional, longest_allowed(Appointment, "professional_name")),
        clinic=filled(clinic, longest_allowed(Location, "name")),
        street=filled(street, longest_allowed(Address, "street")),
        city=filled(city, longest_allowed(Address, "city")),
    )


def sample_state(
    lang: Lang,
    *,
    now: dt.datetime = SAMPLE_NOW,
    self_serve: bool = True,
    cancel_open: bool = True,
    hide_professional: bool = False,
    longest: bool = False,
) -> AppointmentState:
    """The sample appointment as the gateway would hold it at ``now``.

    Parameters:
      lang: the patient's language.
      now: the appointment is four days after ``now`` (local date), at 9:30.
      self_serve: whether the patient could cancel online (has a health-card number).
      cancel_open: whether online cancellation is still open at ``now``; when False the
        deadline is ``now`` itself (just passed).
      hide_professional: the location hides the professional's name for this booking.
      longest: the patient's first name and the clinic's name are as long as the
        contract allows (see :func:`longest_names`).
    """
    zone = SAMPLE_LOCATION.zone
    day = now.astimezone(zone).date() + dt.timedelta(days=_DAYS_AHEAD)
    start = dt.datetime.combine(day, _START_TIME, tzinfo=zone)
    first, last, email, professional = _PATIENTS[lang]
    location = SAMPLE_LOCATION
    if longest:
        names = longest_names(lang)
        first, last, professional = names.first_name, names.last_name, names.professional
        address = location.address.model_copy(update={"street": names.street,
                                                      "city": names.city})
        location = location.model_copy(update={"name": names.clinic, "address": address})
    appointment = Appointment(
        reference=SAMPLE_REFERENCE,
        start=start,
        duration_minutes=15,
        professional_name=professional,
        hide_professional_name=hide_professional,
        location=location,
        patient=Patient(
            first_name=first,
            last_name=last,
            language=lang,
            mobile_phone="+15145550188",
            home_phone="+15145550199",
            email=email,
            modes=frozenset(Channel),
            self_serve=self_serve,
        ),
    )
    deadline = start - dt.timedelta(minutes=SAMPLE_LOCATION.cancellation_notice_minutes)
    closes = deadline if cancel_open else now
    return AppointmentState(
        appointment=appointment, version=1, cancel_closes_at=closes.astimezone(dt.UTC)
    )
