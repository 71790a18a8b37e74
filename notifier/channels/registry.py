"""Which client serves each channel in this deployment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from notifier.channels.base import ChannelClient
from notifier.channels.outbox import OutboxClient
from notifier.domain import Channel
from notifier.settings import Settings


def channel_clients(
    settings: Settings, *, clock: Callable[[], dt.datetime]
) -> dict[Channel, ChannelClient]:
    """The outbox serves every channel until a provider is configured for it."""
    outbox = OutboxClient(settings.outbox_dir, clock=clock)
    return {channel: outbox for channel in Channel}
