"""GET /api/v1/referrals/: a referral partner's referrals and what became of them."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from applicants import roles
from core.errors import NotAllowed

from .referrals import referral_row, referrals_for

ReferralSerializer = inline_serializer(
    "Referral",
    {
        "reference": serializers.IntegerField(),
        "partner": serializers.CharField(),
        "registered_on": serializers.DateField(),
        "centre": serializers.CharField(),
        "applications": inline_serializer(
            "ReferralApplication",
            {
                "id": serializers.IntegerField(),
                "programme": serializers.CharField(),
                "state": serializers.CharField(),
                "state_label": serializers.CharField(),
            },
            many=True,
        ),
    },
    many=True,
)


class ReferralList(ListAPIView):
    @extend_schema(responses=ReferralSerializer)
    def get(self, request):
        """The people the caller's organisation referred: reference (the id the centre
        gave), centre (public label), and each application's programme and state."""
        if not roles.has_role(request.user, roles.REFERRAL_PARTNER):
            raise NotAllowed("Referral partners only.")
        page = self.paginate_queryset(referrals_for(request.user))
        return self.get_paginated_response([referral_row(applicant) for applicant in page])
