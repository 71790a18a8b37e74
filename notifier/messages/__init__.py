"""What patients read and hear: the message catalogue, SMS encoding, localised formats.

``render`` is what the send step calls; ``notifier.messages.checks`` holds the checks
``notifier lint`` runs over the catalogue and ``notifier.messages.preview`` what
``notifier preview`` prints.
"""

from notifier.messages.catalogue import Rendered, render
from notifier.messages.sms import SmsEncoding, normalise_sms, sms_encoding

__all__ = ["Rendered", "SmsEncoding", "normalise_sms", "render", "sms_encoding"]
