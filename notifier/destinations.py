"""Which phone numbers the gateway may text or call: the destination policy.

What a number is (its region, whether it is premium-rate, toll-free, satellite or a
landline) is read from Google's libphonenumber data (the ``phonenumbers`` package), not
from rules of our own. A number may be texted or called when libphonenumber knows it as
valid, it belongs to one of the allowed regions, and it is an ordinary subscriber number:
fixed line, mobile (or either, as North American numbers always are) or VoIP. Premium-rate
(NANP 900), shared-cost, toll-free, personal (NANP 500), pager and other non-geographic
numbers never are, whatever the regions; neither are numbers outside any region (satellite
phones, international premium codes such as +979). NANP 976 is no area code: it is refused
as an invalid number. The Caribbean NANP countries (Jamaica +1876, the Bahamas +1242,
...) and the US territories have regions of their own (JM, BS, PR, GU ...): they are
refused unless listed.

The gateway's test recipients (:mod:`notifier.channels.test_recipients`) never reach a
provider, so they pass whatever the policy.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

from notifier.settings import Settings
from notifier.test_addresses import TEST_PHONES

ORDINARY_TYPES = frozenset({
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.VOIP,
})
# libphonenumber's region for numbers that belong to no country (satellite, +979, +800).
_NO_REGION = "001"


@dataclass(frozen=True)
class DestinationPolicy:
    """Where patients may be texted and called.

    Parameters:
      regions: ISO 3166 region codes (``CA``, ``US``, ``FR`` ...) whose ordinary numbers
        are allowed (``NOTIFIER_ALLOWED_PHONE_REGIONS``).
    """

    regions: frozenset[str]

    def refusal(self, number: str, *, texted: bool = False) -> str | None:
        """Why ``number`` (E.164) may not be texted or called, as a sentence that says what
        to change without repeating the number, or None when it may.

        ``texted``: the number is given as a mobile number; a number libphonenumber knows
        to be a landline is then refused, since it cannot receive texts (it cannot tell for
        Canada and the US, where any number may be either).
        """
        if number in TEST_PHONES:
            return None
        try:
            parsed = phonenumbers.parse(number)
        except phonenumbers.NumberParseException:
            return "must be a phone number in international form, for example +15145550123"
        region = phonenumbers.region_code_for_number(parsed)
        if region == _NO_REGION:
            return ("is a satellite, international premium-rate or other non-geographic "
                    "number: patients are texted and called on ordinary numbers only")
        if not phonenumbers.is_valid_number(parsed):
            return "is not a phone number in service; check its digits and its country code"
        kind = phonenumbers.number_type(parsed)
        if kind not in ORDINARY_TYPES:
            return ("is a premium-rate, toll-free or other non-geographic number: patients "
                    "are texted and called on ordinary mobile and landline numbers only")
        if region not in self.regions:
            allowed = ", ".join(sorted(self.regions))
            return (f"is in a region this gateway does not text or call (allowed: {allowed}; "
                    "see NOTIFIER_ALLOWED_PHONE_REGIONS)")
        if texted and kind == PhoneNumberType.FIXED_LINE:
            return ("is a landline number, which cannot receive texts: give a mobile number "
                    "here, and a landline as home_phone")
        return None

    def allows(self, number: str) -> bool:
        """Whether ``number`` may be texted or called now (checked again at send time)."""
        return self.refusal(number) is None


def destination_policy(settings: Settings) -> DestinationPolicy:
    """The deployment's policy (``NOTIFIER_ALLOWED_PHONE_REGIONS``)."""
    return DestinationPolicy(regions=settings.allowed_phone_regions)
