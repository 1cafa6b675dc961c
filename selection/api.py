"""REST API v1 of the selection: calls, committees, declarations, scores, the ranked
list and its approval, reserve offers and the minutes (docs/api.md, "Selection")."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotVisible, require
from grants.api import CallSerializer
from grants.models import Call, GrantApplication
from grants.selectors import programmes_for

from . import minutes, permissions, selectors, services
from .models import Committee, Declaration, ReserveOffer


def _call(user, pk):
    call = get_object_or_404(Call.objects.select_related("programme__country"), pk=pk)
    require(permissions.can_view_call(user, call))
    return call


def _application(user, pk):
    application = get_object_or_404(GrantApplication.objects.select_related("programme", "call"), pk=pk)
    require(permissions.can_view_as_member(user, application))
    return application


class ProgrammeCalls(APIView):
    """The calls of a programme the user sees."""

    @extend_schema(responses=CallSerializer(many=True))
    def get(self, request, pk):
        programme = programmes_for(request.user).filter(pk=pk).first()
        if programme is None:
            raise NotVisible()
        calls = programme.calls.prefetch_related("centres")
        return Response(CallSerializer(calls, many=True, context={"request": request}).data)


class MyCalls(APIView):
    """The calls the user works on (committee seats, staff of the calls' centres)."""

    @extend_schema(responses=CallSerializer(many=True))
    def get(self, request):
        calls = selectors.calls_for(request.user).prefetch_related("centres")
        return Response(CallSerializer(calls, many=True, context={"request": request}).data)


MEMBERS = inline_serializer(
    "Committee",
    {
        "call": serializers.IntegerField(),
        "chair": serializers.IntegerField(allow_null=True),
        "members": inline_serializer(
            "CommitteeMember",
            {"user": serializers.IntegerField(), "name": serializers.CharField()},
            many=True,
        ),
    },
)


class CommitteeWriteSerializer(serializers.Serializer):
    chair = serializers.IntegerField()
    members = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


def _committee_json(call):
    committee = Committee.objects.filter(call=call).first()
    if committee is None:
        return {"call": call.pk, "chair": None, "members": []}
    return {
        "call": call.pk,
        "chair": committee.chair_id,
        "members": [
            {"user": m.user_id, "name": m.user.get_full_name() or m.user.username}
            for m in committee.members.select_related("user")
        ],
    }


class CommitteeView(APIView):
    @extend_schema(responses=MEMBERS)
    def get(self, request, pk):
        return Response(_committee_json(_call(request.user, pk)))

    @extend_schema(request=CommitteeWriteSerializer, responses=MEMBERS)
    def put(self, request, pk):
        call = _call(request.user, pk)
        require(permissions.can_manage_committee(request.user, call))
        data = CommitteeWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        users = get_user_model().objects.in_bulk([values["chair"], *values["members"]])
        if values["chair"] not in users or any(pk not in users for pk in values["members"]):
            raise serializers.ValidationError({"members": ["Unknown user."]})
        services.set_committee(
            call=call,
            chair=users[values["chair"]],
            members=[users[pk] for pk in values["members"]],
            by=request.user,
        )
        return Response(_committee_json(call))


class DeclarationSerializer(serializers.Serializer):
    conflict = serializers.BooleanField()
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=Declaration._meta.get_field("note").max_length
    )


class DeclarationCreate(APIView):
    @extend_schema(request=DeclarationSerializer, responses={201: DeclarationSerializer})
    def post(self, request, pk):
        application = _application(request.user, pk)
        data = DeclarationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        declaration = services.declare(
            application=application,
            by=request.user,
            conflict=data.validated_data["conflict"],
            note=data.validated_data.get("note", ""),
        )
        return Response(
            {"conflict": declaration.conflict, "note": declaration.note}, status=status.HTTP_201_CREATED
        )


SCORES = inline_serializer(
    "CommitteeScores",
    {
        "result": serializers.CharField(allow_null=True),
        "spread": serializers.CharField(allow_null=True),
        "scores": inline_serializer(
            "MemberScores",
            {
                "member": serializers.IntegerField(),
                "weighted": serializers.DecimalField(max_digits=6, decimal_places=2),
                "criteria": serializers.DictField(
                    child=serializers.IntegerField(), help_text="{criterion id: 1-5}"
                ),
            },
            many=True,
        ),
    },
)


class ScoreSerializer(serializers.Serializer):
    scores = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=5), help_text="{criterion id: 1-5}"
    )


class CommitteeScores(APIView):
    """The members' scores of an application (a member: once theirs are in)."""

    @extend_schema(responses=SCORES)
    def get(self, request, pk):
        application = get_object_or_404(GrantApplication.objects.select_related("programme", "call"), pk=pk)
        require(permissions.can_see_scores(request.user, application))
        scorings = selectors.scores_of(application)
        weighted = [s.weighted for s in scorings]
        result = selectors.committee_result(weighted, application.programme.committee_result)
        return Response(
            {
                "result": None if result is None else str(result),
                "spread": str(max(weighted) - min(weighted)) if weighted else None,
                "scores": [
                    {
                        "member": s.member.user_id,
                        "weighted": str(s.weighted),
                        "criteria": {str(line.criterion_id): line.score for line in s.lines.all()},
                    }
                    for s in scorings
                ],
            }
        )

    @extend_schema(request=ScoreSerializer, responses={201: SCORES})
    def post(self, request, pk):
        application = _application(request.user, pk)
        data = ScoreSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.score(application=application, by=request.user, scores=data.validated_data["scores"])
        response = self.get(request, pk)
        response.status_code = status.HTTP_201_CREATED
        return response


def _row_json(row, shown):
    app = row.application
    return {
        "rank": row.rank,
        "application": app.pk,
        "business_name": app.business_name,
        "state": app.state,
        "result": str(row.result) if shown else None,
        "spread": str(row.spread) if shown else None,
        "lowest": str(row.lowest) if shown else None,
        "amount": str(row.amount),
        "cumulative": str(row.cumulative),
        "recommendation": row.recommendation if shown else None,
        "open_offer": row.open_offer,
    }


RANKING = inline_serializer(
    "RankedList",
    {
        "call": serializers.IntegerField(),
        "budget": serializers.CharField(),
        "results": inline_serializer(
            "RankedRow",
            {
                "rank": serializers.IntegerField(),
                "application": serializers.IntegerField(),
                "business_name": serializers.CharField(),
                "state": serializers.CharField(),
                "result": serializers.CharField(allow_null=True),
                "spread": serializers.CharField(allow_null=True),
                "lowest": serializers.CharField(allow_null=True),
                "amount": serializers.DecimalField(max_digits=14, decimal_places=2),
                "cumulative": serializers.DecimalField(max_digits=16, decimal_places=2),
                "recommendation": serializers.CharField(allow_null=True),
                "open_offer": serializers.BooleanField(),
            },
            many=True,
        ),
    },
)


class Ranking(APIView):
    @extend_schema(responses=RANKING)
    def get(self, request, pk):
        call = _call(request.user, pk)
        rows = selectors.visible_rows(request.user, call, selectors.ranked_list(call))
        return Response(
            {"call": call.pk, "budget": str(call.budget), "results": [_row_json(r, s) for r, s in rows]}
        )


class ApproveSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000)


APPROVED = inline_serializer(
    "ListApproval",
    {
        "approved": serializers.ListField(child=serializers.IntegerField()),
        "refused": serializers.DictField(child=serializers.CharField(), help_text="{application id: reason}"),
    },
)


class RankingApprove(APIView):
    @extend_schema(request=ApproveSerializer, responses=APPROVED)
    def post(self, request, pk):
        call = _call(request.user, pk)
        data = ApproveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.approve_list(
            call=call, by=request.user, comment=data.validated_data.get("comment", "")
        )
        return Response(
            {"approved": result["approved"], "refused": {str(k): v for k, v in result["refused"].items()}}
        )


class OfferSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReserveOffer
        fields = ["id", "call", "application", "freed_by", "reason", "available", "status", "created_at"]


class OfferList(APIView):
    """The reserve offers waiting for the user's decision."""

    @extend_schema(responses=OfferSerializer(many=True))
    def get(self, request):
        return Response(OfferSerializer(selectors.open_offers_for(request.user), many=True).data)


class DecisionSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000)


class OfferDecision(APIView):
    @extend_schema(request=DecisionSerializer, responses=OfferSerializer)
    def post(self, request, pk):
        offer = get_object_or_404(ReserveOffer.objects.select_related("call__programme"), pk=pk)
        require(permissions.can_view_call(request.user, offer.call))
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        offer = services.decide_offer(
            offer=offer,
            by=request.user,
            accept=data.validated_data["accept"],
            comment=data.validated_data.get("comment", ""),
        )
        return Response(OfferSerializer(offer).data)


class AnyAccept(BaseContentNegotiation):
    """The PDF answers whatever the client accepts; errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


class Minutes(APIView):
    content_negotiation_class = AnyAccept

    @extend_schema(responses={(200, "application/pdf"): bytes})
    def get(self, request, pk):
        call = _call(request.user, pk)
        require(permissions.can_read_minutes(request.user, call))
        return minutes.response(call, by=request.user)
