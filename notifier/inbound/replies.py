"""The automatic answer to a patient's text, one SMS segment, from the catalogue.

The words live in ``templates/replies/<fr|en|bilingual>/<kind>.txt.j2``: French for a
French keyword (ARRET, AIDE, REPRISE), English for an English one (STOP, HELP, START),
both languages where the keyword has none (INFO, and anything that is not a keyword).
Every reply exists in all three folders, so any :class:`Keyword` can be answered (a
STOP without a language, which ``parse`` never makes, gets the bilingual STOP).
Canadian short-code rules (CWTA) want each of these answers in one segment:
``notifier lint`` checks it with the deployment's sender name and web address. Where the
Twilio account answers a word itself, the gateway does not (:func:`answered_by_twilio`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from notifier.domain import Lang
from notifier.inbound.keywords import Keyword, KeywordKind
from notifier.messages.catalogue import environment, template_folders
from notifier.messages.sms import normalise_sms
from notifier.settings import Settings

ReplyLang = Literal["fr", "en", "bilingual"]
REPLY_LANGS: tuple[ReplyLang, ...] = ("fr", "en", "bilingual")


def reply_lang(keyword: Keyword) -> ReplyLang:
    """The language the reply is written in: the keyword's, or both when it has none."""
    return "bilingual" if keyword.lang is None else keyword.lang.value


def reply_template(kind: KeywordKind, lang: ReplyLang) -> str:
    """The template name of one reply, e.g. ``replies/fr/stop.txt.j2``."""
    return f"replies/{lang}/{kind}.txt.j2"


def _context(settings: Settings, lang: ReplyLang) -> dict[str, Any]:
    values: dict[str, Any] = {
        "sender_name": settings.sender_name,
        "web_address": settings.web_address,
        "fee_notice_fr": settings.fee_notice(Lang.FR),
        "fee_notice_en": settings.fee_notice(Lang.EN),
    }
    if lang != "bilingual":
        values["fee_notice"] = settings.fee_notice(Lang(lang))
    return values


def render_reply_text(
    kind: KeywordKind, lang: ReplyLang, settings: Settings, *, templates_dir: Path | None = None
) -> str:
    """One reply, rendered and made SMS-clean (see :func:`render_reply`).

    Parameters:
      kind, lang: which reply.
      settings: sender name, web address and fee notices.
      templates_dir: a whole catalogue to use instead of the deployment's (see
        :func:`~notifier.messages.catalogue.template_folders`).
    """
    env = environment(*template_folders(settings, templates_dir))
    text = env.get_template(reply_template(kind, lang)).render(_context(settings, lang))
    return normalise_sms(text)


def render_reply(
    keyword: Keyword, settings: Settings, *, templates_dir: Path | None = None
) -> str:
    """The SMS that answers ``keyword``, in its language (both languages when it has
    none). With the shipped templates it renders for every keyword; a broken custom
    template raises ``jinja2.TemplateError``, which ``notifier lint`` reports first."""
    return render_reply_text(
        keyword.kind, reply_lang(keyword), settings, templates_dir=templates_dir
    )


def answered_by_twilio(keyword: Keyword, form: dict[str, str], settings: Settings) -> bool:
    """True when the Twilio account answers this message itself, so we must stay silent.

    Only with NOTIFIER_TWILIO_ANSWERS_ENGLISH_KEYWORDS: then Twilio answers the words of
    its default lists (STOP, START, HELP, INFO... all English or language-neutral; not
    ARRET, AIDE, REPRISE, nor the variants we accept and Twilio does not, such as
    OPT OUT), and any word its Advanced Opt-Out matched, which it tells us in
    ``OptOutType``.
    """
    return settings.twilio_answers_english_keywords and (
        keyword.twilio_default or bool(form.get("OptOutType"))
    )
