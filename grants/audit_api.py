"""GET /api/v1/audit-events/: the audit trail, read-only, for the roles that read it
(field officers, programme managers, the auditor), of the records of their centres.

The auditor reads it without personal data: no applicant, no "on behalf of" name, no
comment, and an applicant's own actions show as done by "the applicant", not by their
username. Filters: `?application=`, `?action=`."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from applicants import roles
from core.errors import NotAllowed

from . import selectors

APPLICANT_ACTOR = "the applicant"


def _actor(event):
    if event.actor_id is not None and event.applicant_id and event.actor_id == event.applicant.user_id:
        return APPLICANT_ACTOR
    return event.actor_name


class AuditEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    action = serializers.CharField()
    application = serializers.IntegerField(source="application_id", allow_null=True)
    from_state = serializers.CharField()
    to_state = serializers.CharField()

    def get_actor(self, obj) -> str:
        return _actor(obj)


class PersonalAuditEventSerializer(AuditEventSerializer):
    """For officers and managers, who see the centre's people anyway."""

    applicant = serializers.IntegerField(source="applicant_id", allow_null=True)
    on_behalf_of = serializers.SerializerMethodField()
    comment = serializers.CharField()

    def get_actor(self, obj) -> str:
        return obj.actor_name

    def get_on_behalf_of(self, obj) -> str | None:
        return obj.on_behalf_of.full_name if obj.on_behalf_of_id else None


def sees_personal_data(user):
    return user.is_superuser or roles.sees_personal_data(user)


@extend_schema(
    parameters=[OpenApiParameter("application", int), OpenApiParameter("action", str)],
    responses=PersonalAuditEventSerializer(many=True),
)
class AuditTrail(ListAPIView):
    def get_serializer_class(self):
        if sees_personal_data(self.request.user):
            return PersonalAuditEventSerializer
        return AuditEventSerializer

    def get_queryset(self):
        user = self.request.user
        if not user.is_superuser and not (
            roles.is_staff_member(user) and user.has_perm("grants.view_auditevent")
        ):
            raise NotAllowed("Your role does not read the audit trail.")
        events = selectors.audit_events_for(user).select_related(
            "actor", "applicant", "on_behalf_of", "free_text"
        )
        params = self.request.query_params
        application = params.get("application")
        if application:
            events = events.filter(application_id=int(application) if application.isdigit() else -1)
        if params.get("action"):
            events = events.filter(action=str(params["action"])[:60])
        return events.order_by("-at", "-id")
