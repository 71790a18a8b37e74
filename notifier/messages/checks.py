"""The checks of the message catalogue that ``notifier lint`` runs.

The lint renders every kind, channel and language for the sample appointment, with the
cancel link open and closed, with self-serve on and off, and with the longest names the
event contract allows, and refuses what would hurt a patient or a deployment: a template
that does not render, an SMS that cannot fit the segment budget even after the fitting
steps (:mod:`notifier.messages.fitting`), a web address in a voice call, a cancel link
where online cancellation is not possible, or wording that invites a reply of a carrier
opt-out word (:mod:`notifier.messages.text_checks`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import jinja2
from markupsafe import escape

from notifier.bilingual import Bilingual
from notifier.domain import Channel, Kind, Lang
from notifier.errors import SmsOverBudget
from notifier.messages.catalogue import (
    TEMPLATES_DIR,
    Rendered,
    ResponsePrompt,
    cancel_link_open,
    context,
    environment,
    render,
    template_folders,
    template_names,
)
from notifier.messages.preview import fitting_steps
from notifier.messages.samples import sample_state
from notifier.messages.sms import sms_encoding
from notifier.messages.text_checks import (
    invited_carrier_words,
    shouted_carrier_words,
    web_addresses,
)
from notifier.planning.entries import AppointmentState
from notifier.settings import Settings

# Operator-facing wording, in both languages --------------------------------------------

_WORDS: dict[str, Bilingual] = {
    "header": Bilingual("Vérification des gabarits dans {path}", "Checking templates in {path}"),
    "header_layered": Bilingual(
        "Vérification des gabarits dans {path}, puis de ceux fournis dans {shipped}",
        "Checking templates in {path}, then the shipped ones in {shipped}",
    ),
    "sms_line": Bilingual(
        "{name} ({variant}) : {encoding}, {characters} caractères, {segments} segment(s)",
        "{name} ({variant}): {encoding}, {characters} characters, {segments} segment(s)",
    ),
    "problem": Bilingual("PROBLÈME {name} : {why}", "PROBLEM {name}: {why}"),
    "no_folder": Bilingual("dossier introuvable", "no such folder"),
    "overrides_nothing": Bilingual(
        "aucun gabarit fourni ne porte ce nom : aucun message ne l'utilise (vérifiez son nom et "
        "son dossier)",
        "no shipped template has this name, so no message uses it (check its name and folder)",
    ),
    "missing_twin": Bilingual(
        "absent, alors que son pendant {other} {twin} existe",
        "missing, but its {other} twin {twin} exists",
    ),
    "does_not_render": Bilingual(
        "ne se génère pas ({variant}) : {error}",
        "does not render ({variant}): {error}",
    ),
    "over_budget": Bilingual(
        "{segments} segments SMS ({variant}), au-delà du maximum de {budget} même abrégé : il ne "
        "serait pas envoyé",
        "{segments} SMS segments ({variant}), over the budget of {budget} even shortened: it "
        "would not be sent",
    ),
    "url_in_voice": Bilingual(
        "un appel vocal ne doit pas dicter d'adresse Web ({variant}) : {url}",
        "a voice call must not speak a web address ({variant}): {url}",
    ),
    "unexpected_url": Bilingual(
        "adresse Web {url} là où aucune ne doit paraître ({variant})",
        "web address {url} where none may appear ({variant})",
    ),
    "link_not_allowed": Bilingual(
        "montre le lien d'annulation alors que l'annulation en ligne est impossible ({variant})",
        "shows the cancel link where online cancellation is not possible ({variant})",
    ),
    "no_phone": Bilingual(
        "offre le lien d'annulation quand il est ouvert, mais pas le téléphone de la clinique une "
        "fois fermé ({variant})",
        "offers the cancel link while it is open, but not the clinic's phone once it is closed "
        "({variant})",
    ),
    "opt_out_invite": Bilingual(
        "invite les patients à envoyer {word}, un mot-clé des opérateurs : qui l'envoie est "
        "désabonné de tous les textos (ou, pour YES, réabonné) au lieu d'être entendu "
        "({variant})",
        "invites patients to send {word}, a carrier keyword: whoever sends it is unsubscribed "
        "from all texts (or, for YES, subscribed again) instead of being heard ({variant})",
    ),
    "no_question": Bilingual(
        "NOTE {name} : ne pose pas la question de réponse du patient; les lieux qui la "
        "demandent ne la poseront pas dans ce message (incluez sms/<langue>/_ask.txt.j2)",
        "NOTE {name}: does not ask the patient-response question; locations that want it "
        "will not ask it in this message (include sms/<lang>/_ask.txt.j2)",
    ),
    "reply_segments": Bilingual(
        "une réponse automatique doit tenir en un seul segment SMS ; celle-ci en prend {segments}",
        "an automatic reply must fit in one SMS segment; this one takes {segments}",
    ),
    "reply": Bilingual("réponse automatique", "automatic reply"),
    "keypad": Bilingual("phrase du clavier d'un appel", "call keypad sentence"),
    "ok": Bilingual(
        "lint : {count} messages générés, aucun problème",
        "lint: {count} messages rendered, no problems",
    ),
    "failed": Bilingual(
        "lint : {count} messages générés, {problems} problème(s)",
        "lint: {count} messages rendered, {problems} problem(s)",
    ),
    "lang_fr": Bilingual("français", "French"),
    "lang_en": Bilingual("anglais", "English"),
}


@dataclass(frozen=True)
class Variant:
    """One situation the lint renders every template in.

    Parameters:
      code: a stable identifier.
      labels: how the operator reads it.
      self_serve, cancel_open, hide_professional, longest: see :func:`sample_state`.
      asking: the patient-response question the messages that ask carry (see
        :data:`ASKING`), with its code shown, the longest it gets.
    """

    code: str
    labels: Bilingual
    self_serve: bool = True
    cancel_open: bool = True
    hide_professional: bool = False
    longest: bool = False
    asking: ResponsePrompt | None = None

    def label(self, lang: Lang) -> str:
        return self.labels[lang]

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
    Variant("open", Bilingual("lien d'annulation ouvert", "cancel link open")),
    Variant("closed", Bilingual("lien d'annulation fermé", "cancel link closed"),
            cancel_open=False),
    Variant("no_self_serve", Bilingual("sans libre-service en ligne", "no online self-serve"),
            self_serve=False),
    Variant("hidden_professional",
            Bilingual("nom du professionnel masqué", "professional's name hidden"),
            hide_professional=True),
    Variant("longest_open", Bilingual("noms les plus longs, lien d'annulation ouvert",
                                      "longest names, cancel link open"),
            longest=True),
    Variant("longest_closed", Bilingual("noms les plus longs, lien d'annulation fermé",
                                        "longest names, cancel link closed"),
            cancel_open=False, longest=True),
    Variant("asking_longest_open",
            Bilingual("question de réponse avec code, noms les plus longs, lien ouvert",
                      "response question with a code, longest names, cancel link open"),
            longest=True, asking=ResponsePrompt(code="999")),
    Variant("asking_longest_closed",
            Bilingual("question de réponse avec code, noms les plus longs, lien fermé",
                      "response question with a code, longest names, cancel link closed"),
            cancel_open=False, longest=True, asking=ResponsePrompt(code="999")),
)
# The messages a location may have ask for a patient response (notifier.responses.asks).
ASKING = frozenset({(Kind.REMINDER, Channel.SMS), (Kind.CONFIRMATION, Channel.SMS)})


class LintReport:
    """Collects lint lines and problems, worded in the operator's language.

    Parameters:
      out: where to print.
      lang: the operator's language for the printed lines.
    """

    def __init__(self, out: TextIO, lang: Lang) -> None:
        self.out, self.lang, self.problems, self.rendered = out, lang, 0, 0

    def word(self, key: str, **values: object) -> str:
        return _WORDS[key][self.lang].format(**values)

    def say(self, key: str, **values: object) -> None:
        print(self.word(key, **values), file=self.out)

    def say_sms(self, name: str, variant: str, rendered: Rendered) -> None:
        """One SMS's encoding and length, and the fitting steps it took."""
        assert rendered.sms is not None
        sms = rendered.sms
        line = _WORDS["sms_line"][self.lang].format(
            name=name, variant=variant, encoding=sms.encoding, characters=sms.characters,
            segments=sms.segments)
        print(line + fitting_steps(rendered, self.lang), file=self.out)

    def problem(self, name: str, key: str, **values: object) -> None:
        self.problems += 1
        self.say("problem", name=name, why=self.word(key, **values))

    def finish(self) -> int:
        """Print the tally; returns the exit code: 0 when there is no problem, 1 otherwise."""
        key = "failed" if self.problems else "ok"
        self.say(key, count=self.rendered, problems=self.problems)
        return 1 if self.problems else 0


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
    report: LintReport,
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
        words = invited_carrier_words(text)
        if rendered.channel is Channel.SMS:
            words += shouted_carrier_words(text)
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


def check_catalogue(
    report: LintReport,
    settings: Settings,
    *,
    templates_dir: Path | None,
    now: dt.datetime,
) -> bool:
    """Check the appointment messages; print one line per SMS and one per problem into
    ``report``. False when a template folder is missing (nothing else was checked).

    Parameters:
      report: where lines and problems go.
      settings: the deployment's settings (sender name, link pattern, segment budget...).
      templates_dir: a whole catalogue to check alone; None for what the processes use:
        the deployment's folder (``settings.templates_dir``) over the shipped one.
      now: the instant the sample appointment is rendered at.
    """
    folders = template_folders(settings, templates_dir)
    if len(folders) > 1:
        report.say("header_layered", path=folders[0], shipped=folders[-1])
    else:
        report.say("header", path=folders[0])
    missing_folders = [folder for folder in folders if not folder.is_dir()]
    for folder in missing_folders:
        report.problem(str(folder), "no_folder")
    if missing_folders:
        return False
    if len(folders) > 1:
        for name in _overriding_nothing(folders[0]):
            report.problem(name, "overrides_nothing")
    for missing, twin, other in _language_twins(folders):
        report.problem(missing, "missing_twin", twin=twin, other=report.word(f"lang_{other}"))
    for message_lang in Lang:
        for kind in Kind:
            for channel in Channel:
                _lint_message(report, kind, channel, message_lang, settings, now,
                              templates_dir)
    return True


def _lint_message(
    report: LintReport, kind: Kind, channel: Channel, lang: Lang, settings: Settings,
    now: dt.datetime, templates_dir: Path | None,
) -> None:
    names = template_names(kind, channel, lang)
    link = settings.cancel_link(sample_state(lang, now=now).appointment.reference, lang)
    results: dict[str, Rendered] = {}
    printed: set[str] = set()
    broken: set[str] = set()
    noted = False
    for variant in VARIANTS:
        state = variant.state(lang, now)
        label = variant.label(report.lang)
        asking = variant.asking if (kind, channel) in ASKING else None
        if variant.asking is not None and asking is None:
            continue  # the same as its variant without the question
        try:
            rendered = render(kind, channel, state, settings, now, templates_dir=templates_dir,
                              asking=asking)
            if asking is not None and rendered.text == render(
                    kind, channel, state, settings, now, templates_dir=templates_dir).text \
                    and not noted:
                noted = True  # once per template
                report.say("no_question", name=names["text"])
        except SmsOverBudget as exc:
            report.rendered += 1
            report.problem(names["text"], "over_budget", segments=exc.segments,
                           budget=exc.budget, variant=label)
            continue
        except Exception as exc:  # any failure is the template's: report it, go on
            name = _failing_part(kind, channel, state, settings, now, templates_dir)
            if name not in broken:  # once per template, not once per variant
                broken.add(name)
                report.problem(name, "does_not_render", variant=label, error=describe_error(exc))
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


def check_reply_text(report: LintReport, name: str, text: str, *, variant: str) -> None:
    """An automatic answer to a patient's text, rendered: its line in the report, and a
    problem when it takes more than one SMS segment (Canadian short-code rules want one)
    or invites a carrier opt-out word other than ours.

    Parameters:
      report: where the line and problems go.
      name: the template's name.
      text: what it rendered.
      variant: the sample it was rendered with.
    """
    sms = sms_encoding(text)
    report.say("sms_line", name=name, variant=variant, encoding=sms.encoding,
               characters=sms.characters, segments=sms.segments)
    if sms.segments > 1:
        report.problem(name, "reply_segments", segments=sms.segments)
    words = invited_carrier_words(text) + shouted_carrier_words(text)
    for word in dict.fromkeys(words):
        report.problem(name, "opt_out_invite", word=word, variant=variant)


def describe_error(exc: Exception) -> str:
    """Why a template did not render, in one line."""
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"template {exc.name} not found"
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"{exc.message} (line {exc.lineno})"
    return f"{type(exc).__name__}: {exc}"
