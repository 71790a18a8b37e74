"""What each clinic handed to providers, in the units providers bill: SMS segments, calls,
emails.

The send step counts it in the same script that records a message as handed over, in
one hash per UTC hour (``<prefix>:usage:<YYYYMMDDHH>``, field ``location|channel``, kept
:data:`USAGE_TTL_SECONDS`): hours, not days, so that a day can be read in any zone. A
message found at its provider after an interrupted attempt counts once: the attempt that
reached it never got to record it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from notifier.domain import Channel

# Long enough to read back a whole month at its end.
USAGE_TTL_SECONDS = 35 * 24 * 3600


@dataclass(frozen=True)
class Usage:
    """What one handed-over message costs.

    Parameters:
      location: its clinic's location id.
      channel: its channel.
      units: SMS segments for a text; 1 for a call or an email.
    """

    location: str
    channel: Channel
    units: int

    @property
    def field(self) -> str:
        return f"{self.location}|{self.channel}"


def usage_of(location: str, channel: Channel, *, segments: int | None) -> Usage:
    """The usage of a message of ``channel`` at ``location``; ``segments``: its SMS
    segment count (None for other channels)."""
    units = max(1, segments or 1) if channel is Channel.SMS else 1
    return Usage(location, channel, units)


def hour_label(at: dt.datetime) -> str:
    """The UTC hour ``at`` falls in, as usage hashes name it: ``YYYYMMDDHH``."""
    return at.astimezone(dt.UTC).strftime("%Y%m%d%H")
