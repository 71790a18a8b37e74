"""The message catalogue: what each kind of message says, per channel and language.

The words live in ``templates/<channel>/<lang>/<kind>...j2`` so that clinics and
translators can read and change them; this module gathers what a template may show and
renders it. Health privacy decides what goes in: SMS and voice carry the minimum (first
name, date and time, clinic name, a link or the clinic's phone); email carries the
details. A reason for visit is never available to a template.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from notifier.domain import Channel, Kind, Lang
from notifier.messages import formatting
from notifier.messages.fitting import Step, fit_sms
from notifier.messages.sms import SmsEncoding, normalise_sms
from notifier.package_files import shipped_folder
from notifier.planning.entries import AppointmentState
from notifier.settings import Settings

# The shipped catalogue: every template any message needs.
TEMPLATES_DIR = shipped_folder("notifier", "templates")

# Kinds about an appointment that is gone or past: offering to cancel it makes no sense.
NO_CANCEL_LINK = frozenset({Kind.CANCELLATION, Kind.NO_SHOW})

_DOUBLED_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")


@dataclass(frozen=True)
class Rendered:
    """One message, ready for its channel.

    Parameters:
      kind, channel, lang: what, how and in which language.
      text: the SMS body (normalised), the email's plain-text part, or the words a
        voice call speaks.
      subject: the email subject (one line); None for other channels.
      html: the email's HTML part; None for other channels.
      sms: encoding and segment count of the SMS body; None for other channels.
      fitted: the steps the SMS body took to fit the segment budget (see
        :mod:`notifier.messages.fitting`); empty when it fitted as written.
    """

    kind: Kind
    channel: Channel
    lang: Lang
    text: str
    subject: str | None = None
    html: str | None = None
    sms: SmsEncoding | None = None
    fitted: tuple[Step, ...] = ()


def template_names(kind: Kind, channel: Channel, lang: Lang) -> dict[str, str]:
    """The templates one message is made of, by part (``text``, ``subject``, ``html``)."""
    base = f"{channel}/{lang}/{kind}"
    if channel is Channel.EMAIL:
        return {
            "subject": f"{base}.subject.j2",
            "text": f"{base}.txt.j2",
            "html": f"{base}.html.j2",
        }
    return {"text": f"{base}.txt.j2"}


def template_folders(settings: Settings, templates_dir: Path | None = None) -> tuple[Path, ...]:
    """The folders templates are looked up in, the first that has a template wins.

    Parameters:
      settings: ``templates_dir`` is the deployment's own folder (NOTIFIER_TEMPLATES_DIR),
        looked in before the shipped one, so that it may reword only some messages.
      templates_dir: a whole catalogue to use alone instead (tests, and ``notifier lint``
        over a given folder).
    """
    if templates_dir is not None:
        return (templates_dir,)
    if settings.templates_dir is not None:
        return (settings.templates_dir, TEMPLATES_DIR)
    return (TEMPLATES_DIR,)


@lru_cache(maxsize=8)
def environment(*folders: Path) -> jinja2.Environment:
    """The Jinja environment over templates folders (see :func:`template_folders`), the
    first that has a template wins: HTML escaped, undefined names fatal."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Templates change with a deployment (a restart): no need to stat every file on
        # every render.
        auto_reload=False,
    )


def cancel_link_open(kind: Kind, state: AppointmentState, now: dt.datetime) -> bool:
    """Whether this message may offer the online cancel link at ``now``."""
    return (
        kind not in NO_CANCEL_LINK
        and state.appointment.patient.self_serve
        and now < state.cancel_closes_at
    )


def context(
    kind: Kind, channel: Channel, state: AppointmentState, settings: Settings, now: dt.datetime
) -> dict[str, Any]:
    """Everything a template may show, already in the patient's language."""
    appointment = state.appointment
    location, patient = appointment.location, appointment.patient
    lang = patient.language
    start = appointment.start.astimezone(location.zone)
    closes = state.cancel_closes_at.astimezone(location.zone)
    open_ = cancel_link_open(kind, state, now)
    paragraphs = location.custom_paragraphs.get(kind)
    custom = getattr(paragraphs, lang.value) if paragraphs is not None else None
    return {
        "kind": str(kind),
        "lang": str(lang),
        "first_name": patient.first_name,
        # Dates and times: long (email), short (SMS), spoken (voice).
        "date": formatting.long_date(start, lang),
        "time": formatting.clock_time(start, lang),
        "when": formatting.long_datetime(start, lang),
        "sms_date": formatting.sms_date(start),
        "sms_time": formatting.sms_time(start),
        "when_spoken": formatting.spoken_datetime(start, lang),
        "duration_minutes": appointment.duration_minutes,
        "clinic": location.name,
        "address_lines": formatting.address_lines(location.address, lang),
        "phone": formatting.national_phone(location.phone, lang),
        "phone_spoken": formatting.spoken_phone(location.phone),
        "phone_uri": f"tel:{location.phone}",
        "professional": None if appointment.hide_professional_name
        else appointment.professional_name,
        "reference": appointment.reference,
        # The clinic's own words go in emails only: SMS and voice carry the minimum.
        "custom_paragraph": custom if channel is Channel.EMAIL else None,
        "sender_name": settings.sender_name,
        "web_address": settings.web_address,
        "fee_notice": settings.fee_notice(lang),
        "cancel_link": settings.cancel_link(appointment.reference, lang) if open_ else None,
        "cancel_until": formatting.long_datetime(closes, lang) if open_ else None,
        # True only for an SMS over the segment budget: what an SMS template puts under
        # ``{% if not brief %}`` is then left out.
        "brief": False,
    }


def _tidy_plain_text(text: str) -> str:
    # Optional blocks (professional, custom paragraph) leave blank lines behind.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _tidy_spoken_text(text: str) -> str:
    # One paragraph (line breaks in the template are for its authors), and no doubled
    # full stop where a sentence ends on "a.m." or "p.m.".
    return _DOUBLED_STOP.sub(".", " ".join(text.split()))


def render(
    kind: Kind,
    channel: Channel,
    state: AppointmentState,
    settings: Settings,
    now: dt.datetime,
    *,
    templates_dir: Path | None = None,
) -> Rendered:
    """Render one message for the appointment as it is at ``now``.

    An SMS is fitted within ``settings.sms_segment_budget`` segments; one that cannot be
    raises :class:`~notifier.errors.SmsOverBudget` and must not be sent.

    Raises ``jinja2.TemplateError`` (``TemplateNotFound``, ``UndefinedError``...) when a
    template is missing or broken: ``notifier lint`` finds those before a patient would.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    env = environment(*template_folders(settings, templates_dir))
    values = context(kind, channel, state, settings, now)
    lang = state.appointment.patient.language
    names = template_names(kind, channel, lang)
    if channel is Channel.SMS:
        template = env.get_template(names["text"])
        fitted = fit_sms(lambda options: normalise_sms(template.render(options)), values,
                         budget=settings.sms_segment_budget)
        return Rendered(kind, channel, lang, text=fitted.text, sms=fitted.sms,
                        fitted=fitted.steps)
    parts = {part: env.get_template(name).render(values) for part, name in names.items()}
    if channel is Channel.VOICE:
        # Spoken text: one paragraph; line breaks in the template are for its authors.
        return Rendered(kind, channel, lang, text=_tidy_spoken_text(parts["text"]))
    return Rendered(
        kind,
        channel,
        lang,
        text=_tidy_plain_text(parts["text"]),
        subject=" ".join(parts["subject"].split()),
        html=parts["html"],
    )
