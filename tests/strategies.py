"""Hypothesis strategies for the text the event contract accepts, by the role it plays
(see notifier.text_rules): fuzzing what the gateway takes in, not what it refuses."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import strategies as st

from notifier import text_rules

# No lone surrogates (JSON cannot carry them), no control, format or non-characters, no
# line or paragraph separators: the contract refuses those in every text.
_VISIBLE = ["Cs", "Cc", "Cn", "Cf", "Zl", "Zp"]
_ONE_LINE = st.characters(exclude_categories=_VISIBLE)
_LINES = st.characters(exclude_categories=_VISIBLE, include_characters="\t\n\r")
_NAME = st.one_of(st.characters(categories=["L", "M"]), st.sampled_from(" -'’."))


def accepted_by(rule: Callable[[str], str]) -> Callable[[str], bool]:
    """Whether a text passes ``rule`` (one of :mod:`notifier.text_rules`)."""

    def accepts(value: str) -> bool:
        try:
            rule(value)
        except ValueError:
            return False
        return True

    return accepts


PERSON_NAMES = st.text(_NAME, min_size=1, max_size=text_rules.PERSON_NAME_MAX).filter(
    accepted_by(text_rules.person_name)
)


def clinic_texts(*, min_size: int = 1, max_size: int = 200) -> st.SearchStrategy[str]:
    """A clinic's name or an address part the contract accepts."""
    return st.text(_ONE_LINE, min_size=min_size, max_size=max_size).filter(
        accepted_by(text_rules.clinic_text)
    )


def paragraphs(*, max_size: int = 1000) -> st.SearchStrategy[str]:
    """A custom paragraph the contract accepts (line breaks allowed)."""
    return st.text(_LINES, max_size=max_size)
