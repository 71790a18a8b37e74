"""Automatic replies to patients' texts: language, one segment, what each must say."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import jinja2
import pytest

from notifier.domain import Lang
from notifier.inbound.keywords import KEYWORDS, OTHER, Keyword, KeywordKind, parse
from notifier.inbound.replies import (
    REPLY_LANGS,
    ReplyLang,
    render_reply,
    render_reply_text,
    reply_lang,
    reply_template,
)
from notifier.lint import run_lint
from notifier.messages.catalogue import TEMPLATES_DIR
from notifier.messages.sms import normalise_sms, sms_encoding
from notifier.messages.text_checks import invited_carrier_words, shouted_carrier_words
from notifier.responses.replies import ResponseReply
from notifier.settings import Settings

DEFAULTS = Settings()
EVERY_REPLY = [(kind, lang) for lang in REPLY_LANGS for kind in KeywordKind]
# Words that belong to one language only, to tell which languages a reply speaks.
FRENCH_WORDS = frozenset(
    {"textos", "répondez", "clinique", "informations", "renseignements", "nous", "votre",
     "pour", "frais"}
)
ENGLISH_WORDS = frozenset(
    {"texts", "reply", "clinic", "information", "we", "your", "for", "rates", "appointment"}
)


def _words(text: str) -> set[str]:
    body = text.removeprefix(DEFAULTS.sender_name)
    return set(re.findall(r"[^\W\d_]+", body.lower()))


@pytest.mark.parametrize(("kind", "lang"), EVERY_REPLY)
def test_every_reply_is_one_gsm7_segment_with_sender_and_web_address(
    kind: KeywordKind, lang: ReplyLang
) -> None:
    text = render_reply_text(kind, lang, DEFAULTS)
    encoding = sms_encoding(text)
    assert encoding.segments == 1, (encoding.describe(), text)
    assert encoding.encoding == "GSM-7", text
    assert text.startswith(DEFAULTS.sender_name + " - ")
    assert DEFAULTS.web_address in text
    assert normalise_sms(text) == text
    # Nothing that would unsubscribe a patient from everything if they answered it.
    assert invited_carrier_words(text) == [] and shouted_carrier_words(text) == []


@pytest.mark.parametrize(("kind", "lang"), EVERY_REPLY)
def test_replies_leave_room_for_a_longer_sender_name(kind: KeywordKind, lang: ReplyLang) -> None:
    longer = Settings(sender_name="Clinique médicale de Ste-Julie")
    assert len(longer.sender_name) == 30  # the longest the settings allow
    assert sms_encoding(render_reply_text(kind, lang, longer)).segments == 1


@pytest.mark.parametrize(("kind", "lang"), EVERY_REPLY)
def test_replies_are_in_their_language(kind: KeywordKind, lang: ReplyLang) -> None:
    text = render_reply_text(kind, lang, DEFAULTS)
    words = _words(text)
    french, english = bool(words & FRENCH_WORDS), bool(words & ENGLISH_WORDS)
    assert (french, english) == (lang != "en", lang != "fr"), text


@pytest.mark.parametrize(("kind", "lang"), EVERY_REPLY)
def test_fee_notice_in_the_replies_language(kind: KeywordKind, lang: ReplyLang) -> None:
    text = render_reply_text(kind, lang, DEFAULTS)
    fr, en = DEFAULTS.fee_notice(Lang.FR), DEFAULTS.fee_notice(Lang.EN)
    if lang == "fr":
        assert en not in text
    if lang == "en":
        assert fr not in text
    # The reference texts carry the notice on every answer but "we do not reply"; the
    # bilingual STOP/START/HELP (a keyword with no language, never parsed) have no room.
    if kind is not KeywordKind.OTHER and lang != "bilingual":
        assert (fr if lang == "fr" else en) in text
    if kind is KeywordKind.INFO and lang == "bilingual":
        assert fr in text and en in text


@pytest.mark.parametrize(
    ("word", "lang", "opt_in"),
    [("ARRET", "fr", "REPRISE"), ("FIN", "fr", "REPRISE"), ("STOP", "en", "START"),
     ("CANCEL", "en", "START")],
)
def test_stop_replies_say_how_to_opt_back_in(word: str, lang: str, opt_in: str) -> None:
    keyword = parse(word)
    assert reply_lang(keyword) == lang
    text = render_reply(keyword, DEFAULTS)
    assert f" {opt_in} " in text
    assert parse(opt_in).kind is KeywordKind.START  # the word we give back works


@pytest.mark.parametrize(
    ("word", "lang", "opt_out"),
    [("REPRISE", "fr", "ARRET"), ("START", "en", "STOP"), ("YES", "en", "STOP")],
)
def test_start_replies_say_how_to_opt_out_again(word: str, lang: str, opt_out: str) -> None:
    keyword = parse(word)
    assert reply_lang(keyword) == lang
    text = render_reply(keyword, DEFAULTS)
    assert f" {opt_out} " in text
    assert parse(opt_out).kind is KeywordKind.STOP


def test_bilingual_stop_and_start_give_both_words() -> None:
    stop = render_reply_text(KeywordKind.STOP, "bilingual", DEFAULTS)
    start = render_reply_text(KeywordKind.START, "bilingual", DEFAULTS)
    assert " REPRISE " in stop and " START " in stop
    assert " ARRET " in start and " STOP " in start


def test_every_parsed_keyword_has_a_reply_in_the_right_language() -> None:
    for keyword in [*KEYWORDS.values(), OTHER, parse("je veux arrêter")]:
        text = render_reply(keyword, DEFAULTS)
        expected = "bilingual" if keyword.kind in (KeywordKind.INFO, KeywordKind.OTHER) \
            else str(keyword.lang)
        assert reply_lang(keyword) == expected
        assert text == render_reply_text(keyword.kind, expected, DEFAULTS)


def test_settings_flow_into_replies() -> None:
    rvsq = Settings(sender_name="RVSQ", web_address="www.rvsq.gouv.qc.ca",
                    fee_notice_fr="Frais message/données applicables",
                    fee_notice_en="Message/data fees apply")
    text = render_reply(parse("Info"), rvsq)
    assert text == ("RVSQ - Renseignements / Information : www.rvsq.gouv.qc.ca "
                    "Frais message/données applicables / Message/data fees apply")
    assert render_reply(parse("Arrêt"), rvsq) == (
        "RVSQ - Textos désactivés. Répondez REPRISE pour réactiver. "
        "Annuler un RV : www.rvsq.gouv.qc.ca Frais message/données applicables")


def test_a_reply_is_made_sms_clean(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, folder)
    (folder / "replies/fr/help.txt.j2").write_text(
        "{{ sender_name }} \u2013 Besoin d\u2019aide ?\n  Appelez la clinique.\n")
    text = render_reply(parse("aide"), DEFAULTS, templates_dir=folder)
    assert text == f"{DEFAULTS.sender_name} - Besoin d'aide ? Appelez la clinique."


def test_a_broken_template_raises(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, folder)
    (folder / "replies/en/stop.txt.j2").write_text("{{ sender }} - stopped\n")
    with pytest.raises(jinja2.UndefinedError):
        render_reply(parse("stop"), DEFAULTS, templates_dir=folder)


def test_reply_template_names() -> None:
    assert reply_template(KeywordKind.STOP, "fr") == "replies/fr/stop.txt.j2"
    assert reply_lang(Keyword(KeywordKind.HELP, Lang.EN, "HELP")) == "en"
    assert reply_lang(Keyword(KeywordKind.STOP, None, "")) == "bilingual"
    for kind, lang in EVERY_REPLY:
        assert (TEMPLATES_DIR / reply_template(kind, lang)).is_file()


# notifier lint checks the replies too ---------------------------------------------------

def _lint(folder: Path | None = None, settings: Settings = DEFAULTS) -> tuple[int, str]:
    out = io.StringIO()
    return run_lint(settings, out, templates_dir=folder), out.getvalue()


def test_lint_lists_every_reply() -> None:
    code, output = _lint()
    assert code == 0, output
    lines = [line for line in output.splitlines() if line.startswith("replies/")]
    keyword_replies = [line for line in lines if "/response_" not in line]
    assert len(keyword_replies) == len(EVERY_REPLY)
    assert len(lines) - len(keyword_replies) == len(ResponseReply) * len(Lang)
    assert all("GSM-7" in line and "1 segment(s)" in line for line in lines), lines


def test_lint_refuses_a_two_segment_reply(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, folder)
    path = folder / "replies/en/info.txt.j2"
    path.write_text(path.read_text().rstrip("\n") + " For more details, call the clinic. " * 3)
    code, output = _lint(folder)
    assert code == 1
    assert ("PROBLEM replies/en/info.txt.j2: an automatic reply must fit in one SMS segment; "
            "this one takes 2") in output


def test_lint_refuses_a_reply_that_invites_an_opt_out_word(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, folder)
    (folder / "replies/fr/other.txt.j2").write_text(
        "{{ sender_name }} - Répondez FIN pour ne plus recevoir de textos. {{ web_address }}\n")
    code, output = _lint(folder)
    assert code == 1
    assert "PROBLEM replies/fr/other.txt.j2: invites patients to send FIN" in output


def test_lint_reports_a_reply_that_does_not_render(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, folder)
    (folder / "replies/bilingual/other.txt.j2").unlink()
    code, output = _lint(folder)
    assert code == 1
    assert ("PROBLEM replies/bilingual/other.txt.j2: does not render (automatic reply): "
            "template replies/bilingual/other.txt.j2 not found") in output


def test_lint_catches_a_missing_language_twin(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, folder)
    (folder / "replies/en/help.txt.j2").unlink()
    code, output = _lint(folder)
    assert code == 1
    assert "PROBLEM replies/en/help.txt.j2: missing" in output


def test_lint_checks_replies_with_the_deployments_settings() -> None:
    long_address = Settings(web_address="www." + "rendez-vous-sante-" * 3 + "example.org")
    code, output = _lint(settings=long_address)
    assert code == 1
    assert "PROBLEM replies/fr/stop.txt.j2: an automatic reply must fit" in output
