"""The gateway's Twilio HTTP client encodes forms and basic auth as requests did: the
bytes Twilio has always been sent."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from requests.auth import _basic_auth_str
from requests.models import RequestEncodingMixin

from notifier.channels.twilio.http_client import basic_auth, form_encoded

_names = st.text(min_size=1, max_size=12)
_scalars = st.one_of(st.text(max_size=30), st.integers(), st.booleans(), st.none())
_values = st.one_of(_scalars, st.lists(_scalars, max_size=4))


@given(st.dictionaries(_names, _values, max_size=8))
def test_a_form_is_encoded_as_requests_encoded_it(form: dict[str, object]) -> None:
    assert form_encoded(form.items()) == RequestEncodingMixin._encode_params(form)


@given(st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=40),
       st.text(alphabet=st.characters(max_codepoint=0xFF), max_size=40))
def test_basic_auth_is_written_as_requests_wrote_it(user: str, password: str) -> None:
    assert basic_auth(user, password) == _basic_auth_str(user, password)
