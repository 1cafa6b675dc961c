"""Writes of selecting fairly: a programme manager's override of the one-grant-per-
household rule, and an approval of less than was asked (items removed or reduced)."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit import trail
from core.errors import Conflict, ServiceError, checked_text, require

from .. import households, permissions
from ..models import HouseholdOverride
from ..workflow import State
from .applications import locked


@transaction.atomic
def record_household_override(*, application, by, reason):
    """Allow `application` to be approved although the same person or household holds a
    grant of its programme. The audit row keeps the grants it overrides."""
    application = locked(application)
    require(permissions.can_override_household(by, application))
    reason = checked_text(reason, HouseholdOverride._meta.get_field("reason"), key="reason")
    if not reason:
        raise ServiceError(
            _("Give the reason for allowing a second grant."),
            code="reason_required",
            details={"reason": [_("Give the reason for allowing a second grant.")]},
        )
    found = households.conflicts(application, states=State.GRANTED)
    try:
        with transaction.atomic():
            override = HouseholdOverride.objects.create(application=application, reason=reason, created_by=by)
    except IntegrityError:
        raise Conflict(_("A second grant is already allowed for this application.")) from None
    trail.record(
        action="household_override",
        actor=by,
        application=application,
        from_state=application.state,
        to_state=application.state,
        comment=reason,
        data={"grants": [[pk, reason_code] for pk, reason_code in found]},
    )
    return override
