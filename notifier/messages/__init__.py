"""What patients read and hear: the message catalogue, SMS encoding, localised formats.

``render`` is what the send step calls; ``notifier.messages.lint`` holds ``run_lint`` and
``preview`` for the command line.
"""

from notifier.messages.catalogue import Rendered, render
from notifier.messages.sms import SmsEncoding, normalise_sms, sms_encoding

__all__ = ["Rendered", "SmsEncoding", "normalise_sms", "render", "sms_encoding"]
