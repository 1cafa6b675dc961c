"""GET /api/v1/audit-events/: the audit trail, read-only, for the roles that read it
(field officers, programme managers, the auditor), of the records of their centres.

The auditor reads it without personal data: no applicant, no "on behalf of" name, no
comment, and an applicant's own actions show as done by "the applicant", not by their
username. Filters: `?application=`, `?action=`, `?actor=` (a staff username),
`?from=`, `?to=` (local days, inclusive); the same query as the audit trail page
(`grants.selectors.audit_trail`)."""

import datetime

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from applicants import roles
from core.errors import ServiceError, require

from . import permissions, selectors


def trail_date(raw, field):
    """A filter's date (YYYY-MM-DD), None when not given; ServiceError (400) otherwise."""
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(str(raw))
    except ValueError:
        raise ServiceError(
            _("%(field)s: give a date as YYYY-MM-DD.") % {"field": field}, details={field: [_("A date.")]}
        ) from None


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    action = serializers.CharField()
    application = serializers.IntegerField(source="application_id", allow_null=True)
    from_state = serializers.CharField()
    to_state = serializers.CharField()

    def get_actor(self, obj) -> str:
        return selectors.audit_actor(obj)


class PersonalAuditEventSerializer(AuditEventSerializer):
    """For officers and managers, who see the centre's people anyway. The auditor's rows
    leave the personal fields out: not "required" in the schema (one schema for both)."""

    applicant = serializers.IntegerField(source="applicant_id", allow_null=True, required=False)
    on_behalf_of = serializers.CharField(source="on_behalf_of.full_name", allow_null=True, required=False)
    comment = serializers.CharField(required=False)

    def get_actor(self, obj) -> str:
        return obj.actor_name


def sees_personal_data(user):
    return user.is_superuser or roles.sees_personal_data(user)


@extend_schema(
    parameters=[
        OpenApiParameter("application", int),
        OpenApiParameter("action", str),
        OpenApiParameter("actor", str, description="a staff member's username"),
        OpenApiParameter("from", datetime.date),
        OpenApiParameter("to", datetime.date),
    ],
    responses=PersonalAuditEventSerializer(many=True),
)
class AuditTrail(ListAPIView):
    def get_serializer_class(self):
        if sees_personal_data(self.request.user):
            return PersonalAuditEventSerializer
        return AuditEventSerializer

    def get_queryset(self):
        user = self.request.user
        require(permissions.can_read_audit_trail(user))
        params = self.request.query_params
        application = params.get("application")
        return selectors.audit_trail(
            user,
            application=(int(application) if application.isdigit() and len(application) < 19 else -1)
            if application
            else None,
            action=str(params.get("action", ""))[:60],
            actor=str(params.get("actor", ""))[:150],
            date_from=trail_date(params.get("from"), "from"),
            date_to=trail_date(params.get("to"), "to"),
        )
