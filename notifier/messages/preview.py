"""``notifier preview``: one message for the sample appointment, as an operator reads it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from notifier.bilingual import Bilingual
from notifier.domain import Channel, Kind, Lang
from notifier.errors import SmsOverBudget
from notifier.messages.catalogue import Rendered, render, template_names
from notifier.messages.fitting import Step
from notifier.messages.samples import SAMPLE_NOW, sample_state
from notifier.settings import Settings

# Labels, in both languages: a message is shown with labels in its own language.
_WORDS: dict[str, Bilingual] = {
    "fitted": Bilingual(", ajusté : {steps}", ", fitted: {steps}"),
    f"step_{Step.LOOKALIKES}": Bilingual(
        "lettres absentes du GSM-7 remplacées",
        "letters GSM-7 lacks replaced",
    ),
    f"step_{Step.OPTIONAL}": Bilingual(
        "phrases facultatives omises",
        "optional sentences left out",
    ),
    f"step_{Step.NAMES}": Bilingual("noms abrégés", "names shortened"),
    "subject": Bilingual("Objet : {subject}", "Subject: {subject}"),
    "sms_encoding": Bilingual(
        "-- {encoding}, {characters} caractères, {segments} segment(s)",
        "-- {encoding}, {characters} characters, {segments} segment(s)",
    ),
    "not_sent": Bilingual(
        "-- non envoyé : {segments} segments SMS même abrégé, au-delà du maximum de {budget}",
        "-- not sent: {segments} SMS segments even shortened, over the budget of {budget}",
    ),
    "html_size": Bilingual(
        "(partie HTML : {size} caractères, {name})",
        "(HTML part: {size} characters, {name})",
    ),
}


def fitting_steps(rendered: Rendered, lang: Lang) -> str:
    """``, fitted: ...`` naming the steps an SMS took to fit its budget, or nothing."""
    if not rendered.fitted:
        return ""
    steps = ", ".join(_WORDS[f"step_{step}"][lang] for step in rendered.fitted)
    return _WORDS["fitted"][lang].format(steps=steps)


def preview(
    kind: Kind,
    channel: Channel,
    lang: Lang,
    settings: Settings,
    *,
    now: dt.datetime | None = None,
    templates_dir: Path | None = None,
    self_serve: bool = True,
    cancel_open: bool = True,
    hide_professional: bool = False,
) -> str:
    """One message for the sample appointment, as text an operator can read: the
    subject, plain text and HTML size of an email; an SMS with its encoding line; the
    words of a voice call; an SMS that cannot fit the segment budget, said so. Labels are
    in the message's language.

    Raises ``jinja2.TemplateError`` when the template does not render.
    """
    when = now or SAMPLE_NOW
    state = sample_state(
        lang, now=when, self_serve=self_serve, cancel_open=cancel_open,
        hide_professional=hide_professional,
    )
    names = template_names(kind, channel, lang)
    lines = [f"# {names['text']}"]
    try:
        rendered = render(kind, channel, state, settings, when, templates_dir=templates_dir)
    except SmsOverBudget as exc:
        lines.append(_WORDS["not_sent"][lang].format(segments=exc.segments, budget=exc.budget))
        return "\n".join(lines)
    if rendered.subject is not None:
        lines.append(_WORDS["subject"][lang].format(subject=rendered.subject))
        lines.append("")
    lines.append(rendered.text.rstrip("\n"))
    if rendered.html is not None:
        lines.append("")
        lines.append(_WORDS["html_size"][lang].format(size=len(rendered.html), name=names["html"]))
    if rendered.sms is not None:
        sms = rendered.sms
        lines.append(_WORDS["sms_encoding"][lang].format(
            encoding=sms.encoding, characters=sms.characters, segments=sms.segments)
            + fitting_steps(rendered, lang))
    return "\n".join(lines)
