"""REST API v1: applicants. Staff register applicants of their centres; applicants see
only themselves. Sensitive facts are returned only to those who may see them."""

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotAllowed, NotVisible

from . import roles, services
from .duplicates import find_possible_duplicates, pending_flags_for
from .models import Applicant, DuplicateFlag, IntegrationCentre, Language, TargetGroup
from .selectors import applicants_for, centre_ids
from .sensitivity import sensitive_payload


class ApplicantSerializer(serializers.ModelSerializer):
    target_groups = serializers.ListField(child=serializers.CharField(), read_only=True)
    centre_name = serializers.CharField(source="centre.name", read_only=True)

    class Meta:
        model = Applicant
        fields = [
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "phone",
            "national_id",
            "email",
            "municipality",
            "centre",
            "centre_name",
            "target_groups",
            "household_size",
            "dependants",
            "language",
        ]
        read_only_fields = fields


class ApplicantDetailSerializer(ApplicantSerializer):
    """One record: adds the sensitive section for those who may see it (and audits it)."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None:
            extra = sensitive_payload(request.user, instance)
            if extra is not None:
                data["sensitive"] = extra
        return data


class SensitiveInSerializer(serializers.Serializer):
    referral_institution = serializers.CharField(max_length=200, required=False, allow_blank=True)
    release_month = serializers.DateField(required=False, allow_null=True)
    returned_from = serializers.CharField(max_length=100, required=False, allow_blank=True)
    return_date = serializers.DateField(required=False, allow_null=True)
    ethnicity = serializers.CharField(max_length=100, required=False, allow_blank=True)


class ApplicantCreateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    date_of_birth = serializers.DateField()
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    national_id = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    municipality = serializers.CharField(max_length=100, required=False, allow_blank=True)
    centre = serializers.IntegerField()
    target_groups = serializers.ListField(
        child=serializers.ChoiceField(choices=TargetGroup.choices), min_length=1
    )
    household_size = serializers.IntegerField(min_value=1, max_value=50, required=False, default=1)
    dependants = serializers.IntegerField(min_value=0, max_value=50, required=False, default=0)
    language = serializers.ChoiceField(
        choices=Language.choices, required=False, default=Language.SERBIAN_LATIN
    )
    consent_given = serializers.BooleanField()
    sensitive = SensitiveInSerializer(required=False)

    def validate_date_of_birth(self, value):

        if value > timezone.localdate() or value.year < 1900:
            raise serializers.ValidationError("Enter a real date of birth.")
        return value

    def validate_first_name(self, value):
        return _printable(value)

    def validate_last_name(self, value):
        return _printable(value)


def _printable(value):
    if any(ord(ch) < 32 for ch in value) or not value.strip():
        raise serializers.ValidationError("Use letters only, no control characters.")
    return value.strip()


class DuplicateSerializer(serializers.Serializer):
    applicant = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class ApplicantCreatedSerializer(ApplicantDetailSerializer):
    possible_duplicates = serializers.SerializerMethodField()

    class Meta(ApplicantSerializer.Meta):
        fields = [*ApplicantSerializer.Meta.fields, "possible_duplicates"]
        read_only_fields = fields

    @extend_schema(responses=DuplicateSerializer(many=True))
    def get_possible_duplicates(self, obj) -> list:
        return [{"applicant": o.pk, "reasons": r} for o, r in getattr(obj, "possible_duplicates", [])]


def _refuse_finance_and_auditor(user):
    if roles.has_role(user, roles.FIELD_OFFICER) or roles.has_role(user, roles.PROGRAMME_MANAGER):
        return
    if roles.has_role(user, roles.FINANCE_OFFICER) or roles.has_role(user, roles.AUDITOR):
        raise NotAllowed("Your role does not see applicants' personal data.")


class ApplicantListCreate(ListAPIView):
    serializer_class = ApplicantSerializer

    def get_queryset(self):
        _refuse_finance_and_auditor(self.request.user)
        return (
            applicants_for(self.request.user)
            .select_related("centre")
            .order_by("last_name", "first_name", "id")
        )

    @extend_schema(request=ApplicantCreateSerializer, responses={201: ApplicantCreatedSerializer})
    def post(self, request):
        user = request.user
        if not (roles.has_role(user, roles.FIELD_OFFICER) and user.has_perm("applicants.add_applicant")):
            raise NotAllowed("Only field officers register applicants.")
        data = ApplicantCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if values["centre"] not in centre_ids(user):
            raise serializers.ValidationError({"centre": ["Choose one of your centres."]})
        if not values["consent_given"]:
            raise serializers.ValidationError(
                {"consent_given": ["The applicant's consent is needed before their data is stored."]}
            )

        with transaction.atomic():
            applicant = services.register_applicant(
                by=user,
                centre=IntegrationCentre.objects.get(pk=values["centre"]),
                sensitive=dict(values.get("sensitive") or {}),
                **{k: v for k, v in values.items() if k not in ("centre", "sensitive")},
            )
        return Response(
            ApplicantCreatedSerializer(applicant, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ApplicantDetail(APIView):
    @extend_schema(responses=ApplicantDetailSerializer)
    def get(self, request, pk):
        _refuse_finance_and_auditor(request.user)
        applicant = applicants_for(request.user).select_related("centre", "sensitive").filter(pk=pk).first()
        if applicant is None:
            raise NotVisible()
        return Response(ApplicantDetailSerializer(applicant, context={"request": request}).data)


def _refuse_unless_officer(user):
    if not (roles.has_role(user, roles.FIELD_OFFICER) and user.has_perm("applicants.add_applicant")):
        raise NotAllowed("Only field officers register applicants.")


class DuplicateCheckSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    date_of_birth = serializers.DateField()
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    national_id = serializers.CharField(max_length=30, required=False, allow_blank=True)
    centre = serializers.IntegerField(
        required=False, help_text="Reads national phone numbers in its country."
    )


class PossibleDuplicateSerializer(serializers.Serializer):
    applicant = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())
    first_name = serializers.CharField(required=False, help_text="Only for people of your centres.")
    last_name = serializers.CharField(required=False)
    date_of_birth = serializers.DateField(required=False)
    centre_name = serializers.CharField(required=False)


class PossibleDuplicatesOut(serializers.Serializer):
    possible_duplicates = PossibleDuplicateSerializer(many=True)


class PossibleDuplicates(APIView):
    """Who may already be registered, asked before saving a registration. People of
    other centres are named only by id and reasons."""

    @extend_schema(request=DuplicateCheckSerializer, responses=PossibleDuplicatesOut)
    def post(self, request):
        user = request.user
        _refuse_unless_officer(user)
        data = DuplicateCheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        centre = None
        if values.get("centre") in centre_ids(user):
            centre = IntegrationCentre.objects.select_related("country").get(pk=values["centre"])
        found = find_possible_duplicates(
            first_name=values["first_name"],
            last_name=values["last_name"],
            date_of_birth=values["date_of_birth"],
            phone=values.get("phone", ""),
            national_id=values.get("national_id", ""),
            region=centre.country.code if centre else None,
        )
        visible = set(
            applicants_for(user).filter(pk__in=[o.pk for o, _r in found]).values_list("pk", flat=True)
        )
        rows = []
        for other, reasons in found:
            row = {"applicant": other.pk, "reasons": reasons}
            if other.pk in visible:
                row.update(
                    first_name=other.first_name,
                    last_name=other.last_name,
                    date_of_birth=other.date_of_birth,
                    centre_name=other.centre.name,
                )
            rows.append(row)
        return Response(PossibleDuplicatesOut({"possible_duplicates": rows}).data)


class DuplicateFlagSerializer(serializers.ModelSerializer):
    class Meta:
        model = DuplicateFlag
        fields = ["id", "applicant", "other", "reasons", "decision", "created_at"]
        read_only_fields = fields


class DuplicateFlagList(ListAPIView):
    """Possible duplicates still to decide, at the caller's centres."""

    serializer_class = DuplicateFlagSerializer

    def get_queryset(self):
        return pending_flags_for(self.request.user)


class DuplicateDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["same_person", "different_person"])
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class DuplicateDecision(APIView):
    @extend_schema(request=DuplicateDecisionSerializer, responses=DuplicateFlagSerializer)
    def post(self, request, pk):
        flag = DuplicateFlag.objects.filter(pk=pk, applicant__centre_id__in=centre_ids(request.user)).first()
        if flag is None:
            raise NotVisible()
        data = DuplicateDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        flag = services.decide_duplicate(
            flag=flag,
            decision=data.validated_data["decision"],
            by=request.user,
            comment=data.validated_data.get("comment", ""),
        )
        return Response(DuplicateFlagSerializer(flag).data)
