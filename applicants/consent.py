"""The consent wording, in plain words, stored with every consent record."""

from django.utils.translation import gettext as _

CONSENT_VERSION = "2026-11"


def consent_wording():
    return "\n".join(
        [
            _(
                "We store your name, date of birth, contact details, household and business plan "
                "to decide on your grant, buy your equipment and visit your business afterwards."
            ),
            _(
                "If you tell us, we also store where you were referred from or returned from. "
                "Only your field officer and the centre's programme managers see this; "
                "finance staff and donors never do. Ethnicity is optional and only counted in totals."
            ),
            _("Donors see numbers only, never your name."),
            _("You can ask your field officer for a copy of your data, or for its deletion, at any time."),
        ]
    )
