"""The ``send_message`` message the hand-off writes is the one Dramatiq's ``Message``
would be, whatever the payload's own JSON holds."""

from __future__ import annotations

import json

import dramatiq
from hypothesis import given
from hypothesis import strategies as st

from notifier.names import SEND_ACTOR, SEND_QUEUE
from notifier.store.handoff import encoded_send_message

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(payload=st.dictionaries(st.text(), json_values, max_size=5),
       ascii_only=st.booleans(), compact=st.booleans())
def test_the_message_decodes_as_dramatiqs_own(
    payload: dict[str, object], ascii_only: bool, compact: bool
) -> None:
    text = json.dumps(payload, ensure_ascii=ascii_only,
                      separators=(",", ":") if compact else None)

    encoded = encoded_send_message(text, message_id="m-1", redis_message_id="r-1",
                                   enqueued_ms=1_764_000_000_123)

    assert dramatiq.Message.decode(encoded.encode()) == dramatiq.Message(
        queue_name=SEND_QUEUE, actor_name=SEND_ACTOR, args=(payload,), kwargs={},
        options={"redis_message_id": "r-1"}, message_id="m-1",
        message_timestamp=1_764_000_000_123,
    )


def test_a_compact_payload_is_encoded_byte_for_byte_as_dramatiq_encodes_it() -> None:
    payload = {"reference": "0000000001", "kind": "reminder", "offset_seconds": 86400}
    message = dramatiq.Message(
        queue_name=SEND_QUEUE, actor_name=SEND_ACTOR, args=(payload,), kwargs={},
        options={"redis_message_id": "r-1"}, message_id="m-1", message_timestamp=7,
    )

    assert encoded_send_message(
        json.dumps(payload, separators=(",", ":")), message_id="m-1",
        redis_message_id="r-1", enqueued_ms=7,
    ).encode() == message.encode()
