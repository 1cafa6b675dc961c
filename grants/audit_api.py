"""GET /api/v1/audit-events/: the audit trail, read-only, for the roles that read it
(field officers, programme managers, the auditor), of the records of their centres.

The auditor reads it without personal data: no applicant, no "on behalf of" name, no
comment, and an applicant's own actions show as done by "the applicant", not by their
username. Filters: `?application=`, `?action=`, `?actor=` (a staff username),
`?from=`, `?to=` (local days, inclusive); the same query as the audit trail page
(`grants.selectors.audit_trail`)."""

import base64
import datetime

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

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


# ---- the trail as a change feed --------------------------------------------------------
#
# Events are read strictly after the cursor in id order. Ids are the order of commit:
# every append locks the chain head (audit.trail.record) until its transaction commits,
# so no event with a smaller id can appear after a larger one was read, and a poll never
# misses or repeats one.

CURSOR_PREFIX = "ae1:"
FEED_LIMIT = 100
FEED_MAX_LIMIT = 500


def encode_cursor(after_id):
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{after_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """The id a cursor stands for; a ValidationError naming `cursor` for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    number = text.removeprefix(CURSOR_PREFIX)
    if not text.startswith(CURSOR_PREFIX) or not number.isdigit() or len(number) > 18:
        raise serializers.ValidationError(
            {"cursor": ["Not a cursor this feed gave: start without one."]}, code="cursor_unknown"
        )
    return int(number)


class ChangeFeedQuery(serializers.Serializer):
    cursor = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The `next_cursor` of the previous answer; none: from the start.",
    )
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=FEED_MAX_LIMIT,
        default=FEED_LIMIT,
        help_text=f"Events per answer, 1–{FEED_MAX_LIMIT} ({FEED_LIMIT}).",
    )


class ChangeFeedSerializer(serializers.Serializer):
    results = PersonalAuditEventSerializer(many=True)
    next_cursor = serializers.CharField(help_text="Send it back as `cursor` to read what happened next.")
    has_more = serializers.BooleanField(help_text="More events wait: ask again at once.")


class ChangeFeed(APIView):
    """GET changes/: the audit events the caller may read, oldest first, strictly after
    `cursor`: poll "what happened since" with the `next_cursor` of the last answer."""

    @extend_schema(parameters=[ChangeFeedQuery], responses=ChangeFeedSerializer)
    def get(self, request):
        user = request.user
        require(permissions.can_read_audit_trail(user))
        query = ChangeFeedQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        after = decode_cursor(values["cursor"]) if "cursor" in values else 0
        limit = values["limit"]
        events = list(
            selectors.audit_events_for(user)
            .filter(id__gt=after)
            .select_related("actor", "applicant", "on_behalf_of", "free_text")
            .order_by("id")[: limit + 1]
        )
        has_more = len(events) > limit
        events = events[:limit]
        row = PersonalAuditEventSerializer if sees_personal_data(user) else AuditEventSerializer
        return Response(
            {
                "results": row(events, many=True).data,
                "next_cursor": encode_cursor(events[-1].pk if events else after),
                "has_more": has_more,
            }
        )
