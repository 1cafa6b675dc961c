"""Narrowing a staff member to programmes, regional programmes or donors (ProgrammeScope),
audited."""

from django.db import transaction
from django.utils.translation import gettext as _

from applicants import roles
from applicants.selectors import forget_permissions
from audit import trail
from core.errors import NotAllowed, ServiceError

from ..models import Programme, ProgrammeScope, RegionalProgramme
from ..selectors import SCOPED_ROLES


def _rows(user):
    """[programme, donor, regional programme] a row, sorted: a user may hold rows of
    every kind at once."""
    return sorted(
        (
            [programme, donor, regional]
            for programme, donor, regional in ProgrammeScope.objects.filter(user=user).values_list(
                "programme_id", "donor", "regional_programme_id"
            )
        ),
        key=lambda row: (row[0] or 0, row[2] or 0, row[1]),
    )


@transaction.atomic
def set_programme_scope(*, user, programmes=(), donors=(), regional_programmes=(), by=None):
    """From now on `user` reads only `programmes` (ids), the country parts of
    `regional_programmes` (ids) and the programmes `donors` fund, still within their
    centres; all empty: every programme of their centres again.
    Superusers (or the operator at the command line, `by=None`) only."""
    if by is not None and not by.is_superuser:
        raise NotAllowed(_("Only superusers narrow staff to programmes or donors."))
    if not any(roles.has_role(user, role) for role in SCOPED_ROLES):
        raise ServiceError(
            _("Only programme managers, auditors and M&E officers are narrowed to programmes.")
        )
    programmes = sorted(set(programmes))
    donors = sorted({str(d).strip() for d in donors if str(d).strip()})
    limit = ProgrammeScope._meta.get_field("donor").max_length
    if any(len(donor) > limit for donor in donors):
        raise ServiceError(_("A donor's name has at most %(limit)d characters.") % {"limit": limit})
    known = set(Programme.objects.filter(pk__in=programmes).values_list("pk", flat=True))
    if known != set(programmes):
        raise ServiceError(_("No such programme: %(ids)s.") % {"ids": sorted(set(programmes) - known)})
    regional_programmes = sorted(set(regional_programmes))
    known = set(RegionalProgramme.objects.filter(pk__in=regional_programmes).values_list("pk", flat=True))
    if known != set(regional_programmes):
        raise ServiceError(
            _("No such regional programme: %(ids)s.") % {"ids": sorted(set(regional_programmes) - known)}
        )
    unknown = set(donors) - set(Programme.objects.filter(donor__in=donors).values_list("donor", flat=True))
    if unknown:
        raise ServiceError(
            _("No programme is funded by %(donors)s.") % {"donors": ", ".join(sorted(unknown))}
        )
    before = _rows(user)
    ProgrammeScope.objects.filter(user=user).delete()
    ProgrammeScope.objects.bulk_create(
        [ProgrammeScope(user=user, programme_id=pk, created_by=by) for pk in programmes]
        + [ProgrammeScope(user=user, donor=donor, created_by=by) for donor in donors]
        + [ProgrammeScope(user=user, regional_programme_id=pk, created_by=by) for pk in regional_programmes]
    )
    after = _rows(user)
    forget_permissions(user)
    if before != after:
        trail.record(
            action="programme_scope_changed",
            actor=by,
            data={"user": user.pk, "username": user.username, "before": before, "after": after},
        )
    return after
