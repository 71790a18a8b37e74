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
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

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
class ResponsePrompt:
    """A message that asks the patient to answer (see :mod:`notifier.responses`).

    Parameters:
      code: the question's code, shown only when the number has several open questions
        ("Répondez 1 482 pour confirmer"); None otherwise.
      decline: whether it offers 2, "I cannot come".
    """

    code: str | None = None
    decline: bool = True


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
      asking: the question the message asks, as it was rendered with; None when it asks
        none (a call that asks is placed differently, see
        :mod:`notifier.channels.twilio.voice`).
    """

    kind: Kind
    channel: Channel
    lang: Lang
    text: str
    subject: str | None = None
    html: str | None = None
    sms: SmsEncoding | None = None
    fitted: tuple[Step, ...] = ()
    asking: ResponsePrompt | None = None


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


class _Message:
    """One message's appointment, settings and instant, from which its template values are
    computed on demand: the zone-local start and the cancel window once, for any value
    that needs them."""

    def __init__(self, kind: Kind, channel: Channel, state: AppointmentState,
                 settings: Settings, now: dt.datetime,
                 asking: ResponsePrompt | None = None) -> None:
        self.kind, self.channel, self.state = kind, channel, state
        self.settings, self.now, self.asking = settings, now, asking
        self.appointment = state.appointment
        self.location, self.patient = self.appointment.location, self.appointment.patient
        self.lang = self.patient.language

    @cached_property
    def start(self) -> dt.datetime:
        return self.appointment.start.astimezone(self.location.zone)

    @cached_property
    def cancel_open(self) -> bool:
        return cancel_link_open(self.kind, self.state, self.now)

    def custom_paragraph(self) -> str | None:
        # The clinic's own words go in emails only: SMS and voice carry the minimum.
        if self.channel is not Channel.EMAIL:
            return None
        paragraphs = self.location.custom_paragraphs.get(self.kind)
        return getattr(paragraphs, self.lang.value) if paragraphs is not None else None

    def cancel_until(self) -> str | None:
        if not self.cancel_open:
            return None
        closes = self.state.cancel_closes_at.astimezone(self.location.zone)
        return formatting.long_datetime(closes, self.lang)


# Everything a template may show, already in the patient's language, each computed only
# for a template that names it.
_VALUES: dict[str, Callable[[_Message], Any]] = {
    "kind": lambda m: str(m.kind),
    "lang": lambda m: str(m.lang),
    "first_name": lambda m: m.patient.first_name,
    # Dates and times: long (email), short (SMS), spoken (voice).
    "date": lambda m: formatting.long_date(m.start, m.lang),
    "time": lambda m: formatting.clock_time(m.start, m.lang),
    "when": lambda m: formatting.long_datetime(m.start, m.lang),
    "sms_date": lambda m: formatting.sms_date(m.start),
    "sms_time": lambda m: formatting.sms_time(m.start),
    "when_spoken": lambda m: formatting.spoken_datetime(m.start, m.lang),
    "duration_minutes": lambda m: m.appointment.duration_minutes,
    "clinic": lambda m: m.location.name,
    "address_lines": lambda m: formatting.address_lines(m.location.address, m.lang),
    "phone": lambda m: formatting.national_phone(m.location.phone, m.lang),
    "phone_spoken": lambda m: formatting.spoken_phone(m.location.phone),
    "phone_uri": lambda m: f"tel:{m.location.phone}",
    "professional": lambda m: None if m.appointment.hide_professional_name
    else m.appointment.professional_name,
    "reference": lambda m: m.appointment.reference,
    "custom_paragraph": _Message.custom_paragraph,
    "sender_name": lambda m: m.settings.sender_name,
    "web_address": lambda m: m.settings.web_address,
    "fee_notice": lambda m: m.settings.fee_notice(m.lang),
    "cancel_link": lambda m: m.settings.cancel_link(m.appointment.reference, m.lang)
    if m.cancel_open else None,
    "cancel_until": _Message.cancel_until,
    # The patient-response question: asked or not, its code (when shown), whether 2 is
    # offered.
    "ask_response": lambda m: m.asking is not None,
    "response_code": lambda m: m.asking.code if m.asking else None,
    "decline_offered": lambda m: bool(m.asking and m.asking.decline),
    # True only for an SMS over the segment budget: what an SMS template puts under
    # ``{% if not brief %}`` is then left out.
    "brief": lambda m: False,
}
CONTEXT_NAMES = frozenset(_VALUES)


def context(
    kind: Kind, channel: Channel, state: AppointmentState, settings: Settings,
    now: dt.datetime, *, names: Collection[str] = CONTEXT_NAMES,
    asking: ResponsePrompt | None = None,
) -> dict[str, Any]:
    """The values a template may show, already in the patient's language.

    Parameters:
      kind, channel, state, settings, now, asking: the message, as :func:`render` takes it.
      names: the values wanted (see :func:`template_variables`); by default all of them.
        A name no template value has is left out.
    """
    message = _Message(kind, channel, state, settings, now, asking)
    return {name: value(message) for name, value in _VALUES.items() if name in names}


def _referenced(env: jinja2.Environment, name: str, seen: set[str]) -> set[str] | None:
    if name in seen:
        return set()
    seen.add(name)
    source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
    tree = env.parse(source, name=name)
    names = set(jinja2.meta.find_undeclared_variables(tree))
    for other in jinja2.meta.find_referenced_templates(tree):
        found = None if other is None else _referenced(env, other, seen)
        if found is None:
            return None
        names |= found
    return names


@lru_cache(maxsize=512)
def template_variables(env: jinja2.Environment, *templates: str) -> frozenset[str]:
    """The context names ``templates`` may read, with those of the templates they extend,
    include or import; all of them when one is named by a variable (which cannot be known
    before rendering).

    Parameters:
      env: the environment the templates are loaded from (see :func:`environment`).
      templates: the templates' names, as ``env.get_template`` takes them.
    """
    seen: set[str] = set()
    found: set[str] = set()
    for name in templates:
        names = _referenced(env, name, seen)
        if names is None:
            return CONTEXT_NAMES
        found |= names
    return CONTEXT_NAMES & found


def asks_question(kind: Kind, channel: Channel, lang: Lang, settings: Settings) -> bool:
    """Whether the deployment's templates for this message can ask the patient-response
    question (they read ``ask_response``): a deployment's own reworded template without it
    asks nothing, and no question opens."""
    env = environment(*template_folders(settings))
    names = template_names(kind, channel, lang)
    return "ask_response" in template_variables(env, *names.values())


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
    asking: ResponsePrompt | None = None,
) -> Rendered:
    """Render one message for the appointment as it is at ``now``; ``asking`` when it
    asks the patient to answer (:func:`notifier.responses.asks` says which do).

    An SMS is fitted within ``settings.sms_segment_budget`` segments; one that cannot be
    raises :class:`~notifier.errors.SmsOverBudget` and must not be sent.

    Raises ``jinja2.TemplateError`` (``TemplateNotFound``, ``UndefinedError``...) when a
    template is missing or broken: ``notifier lint`` finds those before a patient would.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    env = environment(*template_folders(settings, templates_dir))
    lang = state.appointment.patient.language
    names = template_names(kind, channel, lang)
    # Only what these templates read: a date format or a cancel link no template shows
    # costs nothing.
    values = context(kind, channel, state, settings, now,
                     names=template_variables(env, *names.values()), asking=asking)
    if channel is Channel.SMS:
        template = env.get_template(names["text"])
        fitted = fit_sms(lambda options: normalise_sms(template.render(options)), values,
                         budget=settings.sms_segment_budget)
        return Rendered(kind, channel, lang, text=fitted.text, sms=fitted.sms,
                        fitted=fitted.steps, asking=asking)
    parts = {part: env.get_template(name).render(values) for part, name in names.items()}
    if channel is Channel.VOICE:
        # Spoken text: one paragraph; line breaks in the template are for its authors.
        return Rendered(kind, channel, lang, text=_tidy_spoken_text(parts["text"]),
                        asking=asking)
    return Rendered(
        kind,
        channel,
        lang,
        text=_tidy_plain_text(parts["text"]),
        subject=" ".join(parts["subject"].split()),
        html=parts["html"],
    )
