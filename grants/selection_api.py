"""API of selecting fairly (docs/api.md): the grants the same person or household holds
in the programme, and a programme manager's override of that rule."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotAllowed

from . import households, services, workflow
from .api import NoAuditor, get_application
from .models import HouseholdOverride, max_length


class HouseholdOverrideSerializer(serializers.ModelSerializer):
    class Meta:
        model = HouseholdOverride
        fields = ["application", "reason", "created_by", "created_at"]
        read_only_fields = fields


class HouseholdOverrideInSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=max_length(HouseholdOverride, "reason"))


HouseholdSerializer = inline_serializer(
    "Household",
    {
        "conflicts": inline_serializer(
            "HouseholdConflict",
            {"application": serializers.IntegerField(), "reason": serializers.CharField()},
            many=True,
        ),
        "override": HouseholdOverrideSerializer(allow_null=True),
    },
)


class HouseholdOverrideView(NoAuditor, APIView):
    @extend_schema(responses=HouseholdSerializer)
    def get(self, request, pk):
        """The programme's active grants held by the same person or household
        (`reason`: same_person, same_household or same_address), and the override."""
        application = get_application(request.user, pk)
        if not request.user.has_perm("grants.view_householdoverride"):
            raise NotAllowed("Your role does not see households.")
        found = workflow.household_conflicts(application)
        override = application.household_override if households.is_overridden(application) else None
        return Response(
            {
                "conflicts": [{"application": pk_, "reason": reason} for pk_, reason in found],
                "override": HouseholdOverrideSerializer(override).data if override else None,
            }
        )

    @extend_schema(request=HouseholdOverrideInSerializer, responses={201: HouseholdOverrideSerializer})
    def post(self, request, pk):
        """A programme manager allows this application a second grant in the household."""
        application = get_application(request.user, pk)
        data = HouseholdOverrideInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        override = services.record_household_override(
            application=application, by=request.user, reason=data.validated_data["reason"]
        )
        return Response(HouseholdOverrideSerializer(override).data, status=status.HTTP_201_CREATED)
