"""``notifier lint`` and ``notifier preview``: check and show the message catalogue.

The lint renders every kind, channel and language for the sample appointment, with the
cancel link open and closed, with self-serve on and off, and with the longest names the
event contract allows, and refuses what would hurt a patient or a deployment: a template
that does not render, an SMS that cannot fit the segment budget even after the fitting
steps (:mod:`notifier.messages.fitting`), a web address in a voice call, a cancel link
where online cancellation is not possible, or wording that invites a reply of a carrier
opt-out word (a patient who answers CANCEL is unsubscribed from every message by the
carrier).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import jinja2
from markupsafe import escape

from notifier.domain import Channel, Kind, Lang
from notifier.errors import SmsOverBudget
from notifier.inbound.keywords import KeywordKind
from notifier.inbound.replies import REPLY_LANGS, render_reply_text, reply_template
from notifier.messages.catalogue import (
    TEMPLATES_DIR,
    Rendered,
    cancel_link_open,
    context,
    environment,
    render,
    template_folders,
    template_names,
)
from notifier.messages.fitting import Step
from notifier.messages.samples import SAMPLE_NOW, sample_state
from notifier.messages.sms import sms_encoding
from notifier.planning.entries import AppointmentState
from notifier.settings import Settings

# Carrier and provider opt-out words (Twilio's English list, the Government of Canada's
# French ones) other than the one our messages mean: STOP / ARRET.
OPT_OUT_WORDS = frozenset(
    {
        "CANCEL", "END", "QUIT", "UNSUBSCRIBE", "STOPALL", "REVOKE", "OPTOUT", "OPT-OUT",
        "ANNULER", "ANNULE", "ANNULATION", "FIN", "ARET", "ARRETER", "DESABONNER",
        "DESINSCRIRE", "DESINSCRIPTION",
    }
)
# A verb that asks the patient to send something, then the word asked for.
_INVITATION = re.compile(
    r"\b(?:reply|respond|answer|text|txt|send|type|write"
    r"|r[ée]pond(?:ez|re)|textez|texter|envoy(?:ez|er)|[ée]criv(?:ez)|[ée]crire|tapez|taper)\b"
    r"[\s:,]*(?:(?:with|the|word|avec|le|mot|by|par)\s+){0,3}[\"'«“(]*\s*(?P<word>[\w-]+)",
    re.IGNORECASE,
)
_URL = re.compile(
    r"(?:https?://|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:ca|com|org|net|info|quebec)\b\S*",
    re.IGNORECASE,
)


def _plain_upper(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper()


def invited_opt_out_words(text: str) -> list[str]:
    """Carrier opt-out words that ``text`` asks the patient to send back."""
    found = [m["word"] for m in _INVITATION.finditer(text)]
    return [word for word in found if _plain_upper(word) in OPT_OUT_WORDS]


def shouted_opt_out_words(text: str) -> list[str]:
    """Opt-out words written in capitals, as keywords are: ``ANNULER``, ``CANCEL``."""
    return [
        word for word in re.findall(r"[\w-]{3,}", text)
        if word.isupper() and _plain_upper(word) in OPT_OUT_WORDS
    ]


def web_addresses(text: str) -> list[str]:
    """Every web address in ``text`` (trailing punctuation left out)."""
    return [m.group(0).rstrip(".,;:!?)\"'") for m in _URL.finditer(text)]


# Operator-facing wording, in both languages --------------------------------------------

_WORDS: dict[str, dict[Lang, str]] = {
    "header": {
        Lang.EN: "Checking templates in {path}",
        Lang.FR: "Vérification des gabarits dans {path}",
    },
    "header_layered": {
        Lang.EN: "Checking templates in {path}, then the shipped ones in {shipped}",
        Lang.FR: "Vérification des gabarits dans {path}, puis de ceux fournis dans {shipped}",
    },
    "sms_line": {
        Lang.EN: "{name} ({variant}): {encoding}, {characters} characters, {segments} segment(s)",
        Lang.FR: "{name} ({variant}) : {encoding}, {characters} caractères, {segments} segment(s)",
    },
    "fitted": {Lang.EN: ", fitted: {steps}", Lang.FR: ", ajusté : {steps}"},
    f"step_{Step.LOOKALIKES}": {
        Lang.EN: "letters GSM-7 lacks replaced",
        Lang.FR: "lettres absentes du GSM-7 remplacées",
    },
    f"step_{Step.OPTIONAL}": {
        Lang.EN: "optional sentences left out",
        Lang.FR: "phrases facultatives omises",
    },
    f"step_{Step.NAMES}": {Lang.EN: "names shortened", Lang.FR: "noms abrégés"},
    "problem": {Lang.EN: "PROBLEM {name}: {why}", Lang.FR: "PROBLÈME {name} : {why}"},
    "no_folder": {Lang.EN: "no such folder", Lang.FR: "dossier introuvable"},
    "overrides_nothing": {
        Lang.EN: "no shipped template has this name, so no message uses it (check its "
                 "name and folder)",
        Lang.FR: "aucun gabarit fourni ne porte ce nom : aucun message ne l'utilise "
                 "(vérifiez son nom et son dossier)",
    },
    "missing_twin": {
        Lang.EN: "missing, but its {other} twin {twin} exists",
        Lang.FR: "absent, alors que son pendant {other} {twin} existe",
    },
    "does_not_render": {
        Lang.EN: "does not render ({variant}): {error}",
        Lang.FR: "ne se génère pas ({variant}) : {error}",
    },
    "over_budget": {
        Lang.EN: "{segments} SMS segments ({variant}), over the budget of {budget} even "
                 "shortened: it would not be sent",
        Lang.FR: "{segments} segments SMS ({variant}), au-delà du maximum de {budget} même "
                 "abrégé : il ne serait pas envoyé",
    },
    "url_in_voice": {
        Lang.EN: "a voice call must not speak a web address ({variant}): {url}",
        Lang.FR: "un appel vocal ne doit pas dicter d'adresse Web ({variant}) : {url}",
    },
    "unexpected_url": {
        Lang.EN: "web address {url} where none may appear ({variant})",
        Lang.FR: "adresse Web {url} là où aucune ne doit paraître ({variant})",
    },
    "link_not_allowed": {
        Lang.EN: "shows the cancel link where online cancellation is not possible ({variant})",
        Lang.FR: "montre le lien d'annulation alors que l'annulation en ligne est "
                 "impossible ({variant})",
    },
    "no_phone": {
        Lang.EN: "offers the cancel link while it is open, but not the clinic's phone "
                 "once it is closed ({variant})",
        Lang.FR: "offre le lien d'annulation quand il est ouvert, mais pas le téléphone de "
                 "la clinique une fois fermé ({variant})",
    },
    "opt_out_invite": {
        Lang.EN: "invites patients to send {word}, a carrier opt-out word: whoever sends it "
                 "is unsubscribed from all texts ({variant})",
        Lang.FR: "invite les patients à envoyer {word}, un mot de désabonnement des "
                 "opérateurs : qui l'envoie ne reçoit plus aucun texto ({variant})",
    },
    "reply_segments": {
        Lang.EN: "an automatic reply must fit in one SMS segment; this one takes {segments}",
        Lang.FR: "une réponse automatique doit tenir en un seul segment SMS ; celle-ci en "
                 "prend {segments}",
    },
    "reply": {Lang.EN: "automatic reply", Lang.FR: "réponse automatique"},
    "ok": {
        Lang.EN: "lint: {count} messages rendered, no problems",
        Lang.FR: "lint : {count} messages générés, aucun problème",
    },
    "failed": {
        Lang.EN: "lint: {count} messages rendered, {problems} problem(s)",
        Lang.FR: "lint : {count} messages générés, {problems} problème(s)",
    },
    "lang_fr": {Lang.EN: "French", Lang.FR: "français"},
    "lang_en": {Lang.EN: "English", Lang.FR: "anglais"},
    "subject": {Lang.EN: "Subject: {subject}", Lang.FR: "Objet : {subject}"},
    "sms_encoding": {
        Lang.EN: "-- {encoding}, {characters} characters, {segments} segment(s)",
        Lang.FR: "-- {encoding}, {characters} caractères, {segments} segment(s)",
    },
    "not_sent": {
        Lang.EN: "-- not sent: {segments} SMS segments even shortened, over the budget of "
                 "{budget}",
        Lang.FR: "-- non envoyé : {segments} segments SMS même abrégé, au-delà du maximum "
                 "de {budget}",
    },
    "html_size": {
        Lang.EN: "(HTML part: {size} characters, {name})",
        Lang.FR: "(partie HTML : {size} caractères, {name})",
    },
}


@dataclass(frozen=True)
class Variant:
    """One situation the lint renders every template in.

    Parameters:
      code: a stable identifier.
      label_en, label_fr: how the operator reads it.
      self_serve, cancel_open, hide_professional, longest: see :func:`sample_state`.
    """

    code: str
    label_en: str
    label_fr: str
    self_serve: bool = True
    cancel_open: bool = True
    hide_professional: bool = False
    longest: bool = False

    def label(self, lang: Lang) -> str:
        return self.label_fr if lang is Lang.FR else self.label_en

    def state(self, lang: Lang, now: dt.datetime) -> AppointmentState:
        return sample_state(
            lang,
            now=now,
            self_serve=self.self_serve,
            cancel_open=self.cancel_open,
            hide_professional=self.hide_professional,
            longest=self.longest,
        )


VARIANTS = (
    Variant("open", "cancel link open", "lien d'annulation ouvert"),
    Variant("closed", "cancel link closed", "lien d'annulation fermé", cancel_open=False),
    Variant("no_self_serve", "no online self-serve", "sans libre-service en ligne",
            self_serve=False),
    Variant("hidden_professional", "professional's name hidden", "nom du professionnel masqué",
            hide_professional=True),
    Variant("longest_open", "longest names, cancel link open",
            "noms les plus longs, lien d'annulation ouvert", longest=True),
    Variant("longest_closed", "longest names, cancel link closed",
            "noms les plus longs, lien d'annulation fermé", cancel_open=False, longest=True),
)


class _Report:
    """Collects lint lines and problems, worded in the operator's language."""

    def __init__(self, out: TextIO, lang: Lang) -> None:
        self.out, self.lang, self.problems, self.rendered = out, lang, 0, 0

    def say(self, key: str, **values: object) -> None:
        print(_WORDS[key][self.lang].format(**values), file=self.out)

    def say_sms(self, name: str, variant: str, rendered: Rendered) -> None:
        """One SMS's encoding and length, and the fitting steps it took."""
        assert rendered.sms is not None
        sms = rendered.sms
        line = _WORDS["sms_line"][self.lang].format(
            name=name, variant=variant, encoding=sms.encoding, characters=sms.characters,
            segments=sms.segments)
        print(line + _fitting_steps(rendered, self.lang), file=self.out)

    def problem(self, name: str, key: str, **values: object) -> None:
        self.problems += 1
        why = _WORDS[key][self.lang].format(**values)
        self.say("problem", name=name, why=why)


def _template_files(folder: Path) -> set[str]:
    """Every template in ``folder``, by its name for the loader (``sms/fr/...j2``)."""
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*.j2")}


def _language_twins(folders: tuple[Path, ...]) -> Iterator[tuple[str, str, Lang]]:
    """(missing template, its existing twin, the twin's language) for every template
    that exists in one language but not the other, in any of ``folders``."""
    found = set().union(*(_template_files(folder) for folder in folders))
    for name in sorted(found):
        parts = name.split("/", 2)
        if len(parts) < 3 or parts[1] not in {lang.value for lang in Lang}:
            continue  # not in a language's folder (the email's _base.html.j2)
        channel, lang, rest = parts
        other = Lang.EN if lang == Lang.FR else Lang.FR
        twin = f"{channel}/{other}/{rest}"
        if twin not in found:
            yield twin, name, Lang(lang)


def _overriding_nothing(own: Path) -> list[str]:
    """Templates in a deployment's folder that stand for no shipped one (a typing error
    in a name would otherwise leave the shipped words in use, silently). A name that
    starts with ``_`` may be a part of the deployment's own, included by its templates."""
    shipped = _template_files(TEMPLATES_DIR)
    return sorted(
        name for name in _template_files(own)
        if name not in shipped and not name.rsplit("/", 1)[-1].startswith("_")
    )


def _failing_part(
    kind: Kind, channel: Channel, state: AppointmentState, settings: Settings,
    now: dt.datetime, templates_dir: Path | None,
) -> str:
    env = environment(*template_folders(settings, templates_dir))
    values = context(kind, channel, state, settings, now)
    names = template_names(kind, channel, state.appointment.patient.language)
    for name in names.values():
        try:
            env.get_template(name).render(values)
        except Exception:
            return name
    return next(iter(names.values()))


def _parts(rendered: Rendered) -> dict[str, str]:
    parts = {"text": rendered.text}
    if rendered.subject is not None:
        parts["subject"] = rendered.subject
    if rendered.html is not None:
        parts["html"] = rendered.html
    return parts


def _check(
    report: _Report,
    rendered: Rendered,
    names: dict[str, str],
    variant: Variant,
    *,
    link: str,
    link_allowed: bool,
    settings: Settings,
) -> None:
    label = variant.label(report.lang)
    for part, text in _parts(rendered).items():
        name = names[part]
        # In the HTML part the link appears HTML-escaped (&amp;).
        if (link in text or str(escape(link)) in text) and not link_allowed:
            report.problem(name, "link_not_allowed", variant=label)
        words = invited_opt_out_words(text)
        if rendered.channel is Channel.SMS:
            words += shouted_opt_out_words(text)
        for word in dict.fromkeys(words):
            report.problem(name, "opt_out_invite", word=word, variant=label)
        urls = web_addresses(text)
        if rendered.channel is Channel.VOICE:
            for url in urls:
                report.problem(name, "url_in_voice", url=url, variant=label)
        elif rendered.channel is Channel.SMS:
            # The cancel link is judged above; the deployment's own site may appear.
            for url in urls:
                if url not in (link, settings.web_address):
                    report.problem(name, "unexpected_url", url=url, variant=label)


def run_lint(
    settings: Settings,
    out: TextIO,
    *,
    templates_dir: Path | None = None,
    lang: Lang = Lang.EN,
    now: dt.datetime = SAMPLE_NOW,
) -> int:
    """Check the catalogue; print one line per SMS and one per problem. Returns the exit
    code: 0 when there is no problem, 1 otherwise.

    Parameters:
      settings: the deployment's settings (sender name, link pattern, segment budget...).
      out: where to print.
      templates_dir: a whole catalogue to check alone; by default, what the processes
        use: the deployment's folder (``settings.templates_dir``) over the shipped one.
      lang: the operator's language for the printed lines.
      now: the instant the sample appointment is rendered at.
    """
    folders = template_folders(settings, templates_dir)
    report = _Report(out, lang)
    if len(folders) > 1:
        report.say("header_layered", path=folders[0], shipped=folders[-1])
    else:
        report.say("header", path=folders[0])
    missing_folders = [folder for folder in folders if not folder.is_dir()]
    for folder in missing_folders:
        report.problem(str(folder), "no_folder")
    if missing_folders:
        report.say("failed", count=0, problems=report.problems)
        return 1
    if len(folders) > 1:
        for name in _overriding_nothing(folders[0]):
            report.problem(name, "overrides_nothing")
    for missing, twin, other in _language_twins(folders):
        report.problem(missing, "missing_twin", twin=twin, other=_WORDS[f"lang_{other}"][lang])
    for message_lang in Lang:
        for kind in Kind:
            for channel in Channel:
                _lint_message(report, kind, channel, message_lang, settings, now,
                              templates_dir)
    _lint_replies(report, settings, templates_dir)
    key = "failed" if report.problems else "ok"
    report.say(key, count=report.rendered, problems=report.problems)
    return 1 if report.problems else 0


def _lint_message(
    report: _Report, kind: Kind, channel: Channel, lang: Lang, settings: Settings,
    now: dt.datetime, templates_dir: Path | None,
) -> None:
    names = template_names(kind, channel, lang)
    link = settings.cancel_link(sample_state(lang, now=now).appointment.reference, lang)
    results: dict[str, Rendered] = {}
    printed: set[str] = set()
    broken: set[str] = set()
    for variant in VARIANTS:
        state = variant.state(lang, now)
        label = variant.label(report.lang)
        try:
            rendered = render(kind, channel, state, settings, now, templates_dir=templates_dir)
        except SmsOverBudget as exc:
            report.rendered += 1
            report.problem(names["text"], "over_budget", segments=exc.segments,
                           budget=exc.budget, variant=label)
            continue
        except Exception as exc:  # any failure is the template's: report it, go on
            name = _failing_part(kind, channel, state, settings, now, templates_dir)
            if name not in broken:  # once per template, not once per variant
                broken.add(name)
                report.problem(name, "does_not_render", variant=label, error=_describe(exc))
            continue
        report.rendered += 1
        results[variant.code] = rendered
        allowed = cancel_link_open(kind, state, now)
        _check(report, rendered, names, variant, link=link, link_allowed=allowed,
               settings=settings)
        if rendered.sms is not None and rendered.text not in printed:
            printed.add(rendered.text)
            report.say_sms(names["text"], label, rendered)
    # Where a message offers the link while it is open, it must give the clinic's phone
    # once the link is closed: the patient still needs a way to cancel.
    opened = results.get("open")
    if opened is None or link not in opened.text:
        return
    phone_context = context(kind, channel, VARIANTS[1].state(lang, now), settings, now)
    phone = phone_context["phone_spoken" if channel is Channel.VOICE else "phone"]
    for variant in VARIANTS:
        closed = results.get(variant.code)
        if closed is not None and link not in closed.text and phone not in closed.text:
            report.problem(names["text"], "no_phone", variant=variant.label(report.lang))


def _lint_replies(report: _Report, settings: Settings, templates_dir: Path | None) -> None:
    """Answers to patients' texts: each renders, is one segment and invites no opt-out
    word other than ours (they are not counted with the appointment messages)."""
    label = _WORDS["reply"][report.lang]
    for reply_lang in REPLY_LANGS:
        for kind in KeywordKind:
            name = reply_template(kind, reply_lang)
            try:
                text = render_reply_text(kind, reply_lang, settings,
                                         templates_dir=templates_dir)
            except Exception as exc:  # any failure is the template's: report it, go on
                report.problem(name, "does_not_render", variant=label, error=_describe(exc))
                continue
            sms = sms_encoding(text)
            report.say("sms_line", name=name, variant=label, encoding=sms.encoding,
                       characters=sms.characters, segments=sms.segments)
            if sms.segments > 1:
                report.problem(name, "reply_segments", segments=sms.segments)
            words = invited_opt_out_words(text) + shouted_opt_out_words(text)
            for word in dict.fromkeys(words):
                report.problem(name, "opt_out_invite", word=word, variant=label)


def _fitting_steps(rendered: Rendered, lang: Lang) -> str:
    """``, fitted: ...`` naming the steps an SMS took to fit its budget, or nothing."""
    if not rendered.fitted:
        return ""
    steps = ", ".join(_WORDS[f"step_{step}"][lang] for step in rendered.fitted)
    return _WORDS["fitted"][lang].format(steps=steps)


def _describe(exc: Exception) -> str:
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"template {exc.name} not found"
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"{exc.message} (line {exc.lineno})"
    return f"{type(exc).__name__}: {exc}"


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
            + _fitting_steps(rendered, lang))
    return "\n".join(lines)
