"""REST API v1: applicants. Staff register applicants of their centres; applicants see
only themselves. Sensitive facts are returned only to those who may see them."""

from django.db import transaction
from django.db.models import OuterRef
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.changes import apply_changes, changes_query
from core.errors import NotAllowed, NotVisible, require

from . import referral_institutions, roles, services, tokens
from .consent import SPECIAL_PURPOSES
from .duplicates import DEFAULT_PURPOSE, ELSEWHERE_MESSAGE, PURPOSES, TooManyChecks, pending_flags_for
from .models import (
    Applicant,
    DuplicateFlag,
    IntegrationCentre,
    Language,
    ReferralInstitution,
    ReferralPartner,
    Sex,
    TargetGroup,
    WashingtonGroupAnswer,
)
from .permissions import can_change_channels
from .selectors import applicants_for, centre_ids, centres_for
from .sensitivity import (
    assigned_officer_exists,
    can_see_sensitive,
    remember_assigned_officer,
    sensitive_payload,
)


class ApplicantSerializer(serializers.ModelSerializer):
    """A person of the caller's centres. `target_groups` says "former inmate" or
    "returnee": it follows the sensitive-facts rule and is left out for anyone who may not
    see those facts (`sensitive_access`), like `sensitive`. A list's queryset annotates
    `user_is_assigned_officer` so that the rule costs no query per row."""

    # Not read_only, so that the response schema does not call it required (this
    # serializer only ever writes responses).
    target_groups = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Only for the person, the assigned field officer and the centre's managers.",
    )
    centre_name = serializers.CharField(source="centre.name", read_only=True)
    # Blank when not recorded: the schema says so (a plain read-only choice would not).
    sex = serializers.ChoiceField(
        choices=Sex.choices,
        allow_blank=True,
        read_only=True,
        help_text="As the person states it; empty: not recorded.",
    )

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
            "sex",
            "centre",
            "centre_name",
            "target_groups",
            "household_size",
            "dependants",
            "language",
            "household_ref",
            "accepts_email",
            "accepts_sms",
            "channels_recorded_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        user = request.user if request is not None else None
        assigned = getattr(instance, "user_is_assigned_officer", None)
        if user is not None and assigned is not None:
            remember_assigned_officer(user, instance, assigned)
        if user is None or not can_see_sensitive(user, instance):
            data.pop("target_groups")
        return data


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
    referral = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="The referring institution: an id from GET /api/v1/referral-institutions/.",
    )
    referral_other = serializers.CharField(
        max_length=referral_institutions.OTHER_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text=f"Only when the institution is not in the list: its name. {referral_institutions.OTHER_WARNING}",
    )
    referral_institution = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text=(
            "Kept for older clients, instead of referral/referral_other: a list entry's name "
            "(case and spacing aside) becomes that entry, another short name becomes "
            "referral_other; a longer text or one naming an offence is refused (400)."
        ),
    )
    release_month = serializers.DateField(required=False, allow_null=True)
    returned_from = serializers.CharField(max_length=100, required=False, allow_blank=True)
    return_date = serializers.DateField(required=False, allow_null=True)
    ethnicity = serializers.CharField(max_length=100, required=False, allow_blank=True)
    # The Washington Group Short Set: 1 no difficulty, 2 some, 3 a lot, 4 cannot do at
    # all; only with `consent_disability`.
    wg_seeing = serializers.ChoiceField(
        choices=WashingtonGroupAnswer.choices, required=False, allow_null=True
    )
    wg_hearing = serializers.ChoiceField(
        choices=WashingtonGroupAnswer.choices, required=False, allow_null=True
    )
    wg_walking = serializers.ChoiceField(
        choices=WashingtonGroupAnswer.choices, required=False, allow_null=True
    )
    wg_remembering = serializers.ChoiceField(
        choices=WashingtonGroupAnswer.choices, required=False, allow_null=True
    )
    wg_self_care = serializers.ChoiceField(
        choices=WashingtonGroupAnswer.choices, required=False, allow_null=True
    )
    wg_communicating = serializers.ChoiceField(
        choices=WashingtonGroupAnswer.choices, required=False, allow_null=True
    )


# What _printable takes (and the parser: core.parsers.FORBIDDEN), for the schema: no
# character below a space, not only spaces.
_NOT_IN_NAMES = "\\u0000-\\u001f\\u007f\\u202a-\\u202e\\u2066-\\u2069"


@extend_schema_field(
    {
        "type": "string",
        "maxLength": 100,
        "pattern": f"^[^{_NOT_IN_NAMES}]*[^\\s{_NOT_IN_NAMES}][^{_NOT_IN_NAMES}]*$",
    }
)
class NameField(serializers.CharField):
    pass


class ApplicantCreateSerializer(serializers.Serializer):
    first_name = NameField(max_length=100)
    last_name = NameField(max_length=100)
    date_of_birth = serializers.DateField()
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    national_id = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    municipality = serializers.CharField(max_length=100, required=False, allow_blank=True)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, allow_blank=True, default="")
    address = serializers.CharField(
        max_length=Applicant._meta.get_field("address").max_length, required=False, allow_blank=True
    )
    household_ref = serializers.CharField(
        max_length=Applicant._meta.get_field("household_ref").max_length, required=False, allow_blank=True
    )
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
    accepts_email = serializers.BooleanField(required=False, default=True, help_text="News by email.")
    accepts_sms = serializers.BooleanField(
        required=False, default=False, help_text="News by SMS; needs `phone`. Both false: no news."
    )
    consent_disability = serializers.BooleanField(
        required=False, default=False, help_text="the person agreed to the disability questions"
    )
    # Each special category (prison, return, ethnicity, disability) has its own consent,
    # given on paper; the facts of that category are refused without it.
    special_consents = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(SPECIAL_PURPOSES)), required=False, default=list
    )
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
    """The new record with its possible duplicates: people of the officer's centres by
    id and reasons; a match elsewhere only as `match_elsewhere` (it is flagged for a
    programme manager, who sees both centres)."""

    possible_duplicates = serializers.SerializerMethodField()
    match_elsewhere = serializers.SerializerMethodField()

    class Meta(ApplicantSerializer.Meta):
        fields = [*ApplicantSerializer.Meta.fields, "possible_duplicates", "match_elsewhere"]
        read_only_fields = fields

    def _split(self, obj):
        mine = centre_ids(self.context["request"].user)
        found = getattr(obj, "possible_duplicates", [])
        return [(o, r) for o, r in found if o.centre_id in mine], any(
            o.centre_id not in mine for o, _r in found
        )

    @extend_schema_field(DuplicateSerializer(many=True))
    def get_possible_duplicates(self, obj) -> list:
        return [{"applicant": o.pk, "reasons": r} for o, r in self._split(obj)[0]]

    def get_match_elsewhere(self, obj) -> bool:
        return self._split(obj)[1]


def _refuse_finance_and_auditor(user):
    """Staff whose role reads no personal records (finance, the auditor, procurement)."""
    if roles.is_staff_member(user) and not roles.sees_personal_data(user):
        raise NotAllowed("Your role does not see applicants' personal data.")


class OptionalBooleanField(serializers.BooleanField):
    """A yes/no filter that, left out of the query string, filters nothing (DRF's
    BooleanField reads a missing form value as false)."""

    default_empty_html = serializers.empty


class ApplicantListQuery(serializers.Serializer):
    is_institution_contact = OptionalBooleanField(
        required=False,
        help_text="true: only institutions' contact people; false: only people. "
        "Left out: both (GET /api/v1/institutions/ names each institution's contact).",
    )


ApplicantChangesQuery = changes_query(
    ["last_name", "created_at", "updated_at", "id"], name="ApplicantChangesQuery", base=ApplicantListQuery
)


class ApplicantListCreate(ListAPIView):
    serializer_class = ApplicantSerializer

    @extend_schema(parameters=[ApplicantChangesQuery])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        _refuse_finance_and_auditor(self.request.user)
        query = ApplicantChangesQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        user = self.request.user
        applicants = (
            applicants_for(user)
            .select_related("centre")
            .annotate(user_is_assigned_officer=assigned_officer_exists(user, OuterRef("pk")))
            .order_by("last_name", "first_name", "id")
        )
        contacts = query.validated_data.get("is_institution_contact")
        if contacts is not None:
            applicants = applicants.filter(is_institution_contact=contacts)
        return apply_changes(applicants, query.validated_data)

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
                sensitive=_sensitive_in(values.get("sensitive")),
                **{k: v for k, v in values.items() if k not in ("centre", "sensitive")},
            )
        return Response(
            ApplicantCreatedSerializer(applicant, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


def _sensitive_in(values):
    """The API's sensitive facts as the service takes them: a `referral_other` without a
    `referral` is the list's "other"."""
    values = dict(values or {})
    if values.get("referral") is None and values.get("referral_other"):
        values["referral"] = referral_institutions.OTHER
    return values


class ApplicantDetail(APIView):
    @extend_schema(responses=ApplicantDetailSerializer)
    def get(self, request, pk):
        _refuse_finance_and_auditor(request.user)
        applicant = (
            applicants_for(request.user).select_related("centre", "sensitive__referral").filter(pk=pk).first()
        )
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
    purpose = serializers.ChoiceField(
        choices=list(PURPOSES),
        required=False,
        default=DEFAULT_PURPOSE,
        help_text="Why you check (written to the audit trail).",
    )


class PossibleDuplicateSerializer(serializers.Serializer):
    applicant = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = serializers.DateField()
    centre_name = serializers.CharField()


class PossibleDuplicatesOut(serializers.Serializer):
    possible_duplicates = PossibleDuplicateSerializer(many=True, help_text="People of your centres only.")
    match_elsewhere = serializers.BooleanField(
        help_text="A possible match exists in a centre you do not work for (nothing more is said)."
    )
    elsewhere_message = serializers.CharField(allow_null=True)


class PossibleDuplicates(APIView):
    """Who may already be registered, asked before saving a registration: people of the
    caller's centres with the reasons; beyond them only `match_elsewhere` (ask a
    programme manager). Rate-limited per user (429 with Retry-After) and audited."""

    @extend_schema(request=DuplicateCheckSerializer, responses={200: PossibleDuplicatesOut, 429: None})
    def post(self, request):
        user = request.user
        _refuse_unless_officer(user)
        data = DuplicateCheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        centre = None
        if values.get("centre") in centre_ids(user):
            centre = IntegrationCentre.objects.select_related("country").get(pk=values["centre"])
        try:
            check = services.check_possible_duplicates(
                by=user,
                purpose=values["purpose"],
                first_name=values["first_name"],
                last_name=values["last_name"],
                date_of_birth=values["date_of_birth"],
                phone=values.get("phone", ""),
                national_id=values.get("national_id", ""),
                region=centre.country.code if centre else None,
            )
        except TooManyChecks as exc:
            raise Throttled(wait=exc.retry_after, detail=str(exc.message)) from None
        rows = [
            {
                "applicant": other.pk,
                "reasons": reasons,
                "first_name": other.first_name,
                "last_name": other.last_name,
                "date_of_birth": other.date_of_birth,
                "centre_name": other.centre.name,
            }
            for other, reasons in check.here
        ]
        body = {
            "possible_duplicates": rows,
            "match_elsewhere": check.elsewhere,
            "elsewhere_message": str(ELSEWHERE_MESSAGE) if check.elsewhere else None,
        }
        return Response(PossibleDuplicatesOut(body).data)


class DuplicateFlagSerializer(serializers.ModelSerializer):
    """A flag at the caller's centres. When the earlier registration is at a centre the
    caller does not work for, `other` is null, `reasons` empty and `other_elsewhere`
    true: ask a programme manager, who sees both."""

    other = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()
    other_elsewhere = serializers.SerializerMethodField()

    class Meta:
        model = DuplicateFlag
        fields = ["id", "applicant", "other", "reasons", "decision", "created_at", "other_elsewhere"]
        read_only_fields = fields

    def get_other_elsewhere(self, obj) -> bool:
        return obj.other.centre_id not in centre_ids(self.context["request"].user)

    def get_other(self, obj) -> int | None:
        return None if self.get_other_elsewhere(obj) else obj.other_id

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_reasons(self, obj) -> list:
        return [] if self.get_other_elsewhere(obj) else obj.reasons


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
        return Response(DuplicateFlagSerializer(flag, context={"request": request}).data)


class CentreOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="The public label for roles that must not read the name.")
    kind = serializers.ChoiceField(choices=IntegrationCentre.Kind.choices)
    country = serializers.CharField(help_text="ISO 3166 code (XK for Kosovo).")
    municipality = serializers.CharField()


def centre_out(centre, user):
    return {
        "id": centre.pk,
        "name": str(centre.label_for(user)),
        "kind": centre.kind,
        "country": centre.country.code,
        "municipality": centre.municipality,
    }


def centres_of(user):
    """The centres a caller works with: a staff member's own, an applicant's one."""
    if roles.is_staff_member(user):
        return centres_for(user).select_related("country").order_by("name", "id")
    profile = Applicant.objects.filter(user=user).values_list("centre_id", flat=True)
    return IntegrationCentre.objects.filter(pk__in=profile).select_related("country")


class CentreList(ListAPIView):
    """The centres the caller works with (staff: their own; an applicant: theirs)."""

    serializer_class = CentreOut

    def get_queryset(self):
        return centres_of(self.request.user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([centre_out(c, request.user) for c in page])


class ReferralInstitutionOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=ReferralInstitution.Kind.choices)
    country = serializers.CharField(allow_null=True, help_text="ISO 3166 code, or null.")


class ReferralInstitutionList(ListAPIView):
    """The referring institutions offered in forms (field officers, programme managers): what `referral` of a
    registration's sensitive facts takes."""

    serializer_class = ReferralInstitutionOut

    def get_queryset(self):
        # Those who record or review a referral: a prison's name beside nothing else
        # still tells nothing, but no other role needs the list.
        if not roles.sees_personal_data(self.request.user):
            raise NotAllowed("Only field officers and programme managers read the referring institutions.")
        return (
            ReferralInstitution.objects.filter(active=True).select_related("country").order_by("name", "id")
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            [
                {
                    "id": i.pk,
                    "name": i.name,
                    "kind": i.kind,
                    "country": i.country.code if i.country_id else None,
                }
                for i in page
            ]
        )


class MeOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()
    roles = serializers.ListField(child=serializers.ChoiceField(choices=sorted(roles.ALL_ROLES)))
    staff = serializers.BooleanField(help_text="A staff account (two-factor sign-in).")
    applicant = serializers.IntegerField(allow_null=True, help_text="The caller's applicant record, if any.")
    language = serializers.CharField(allow_blank=True)
    centres = CentreOut(many=True)
    token = inline_serializer(
        "MeToken",
        {"id": serializers.IntegerField(), "expires": serializers.DateTimeField(allow_null=True)},
        allow_null=True,
        help_text="The token this request carries; null for a session.",
    )


class Me(APIView):
    """Who the caller is: for a client to check its credential and its scope."""

    @extend_schema(responses=MeOut)
    def get(self, request):
        user = request.user
        profile = Applicant.objects.filter(user=user).only("pk", "language").first()
        token = request.auth if hasattr(request.auth, "expires") else None
        return Response(
            {
                "id": user.pk,
                "username": user.get_username(),
                "name": user.get_full_name() or user.get_username(),
                "roles": roles.roles_of(user),
                "staff": roles.is_staff_account(user),
                "applicant": profile.pk if profile else None,
                "language": profile.language if profile else "",
                "centres": [centre_out(c, user) for c in centres_of(user)],
                "token": {"id": token.pk, "expires": tokens.expires_at(token, user)} if token else None,
            }
        )


class ChannelsSerializer(serializers.Serializer):
    accepts_email = serializers.BooleanField()
    accepts_sms = serializers.BooleanField(help_text="Needs the person's phone number.")


class ApplicantChannels(APIView):
    """The channels the person accepts news by (both false: none). Set by the person or
    a field officer of their centre; audited (`contact_channels_changed`). A reply STOP
    to an SMS turns `accepts_sms` off by itself."""

    @extend_schema(request=ChannelsSerializer, responses=ApplicantDetailSerializer)
    def put(self, request, pk):
        _refuse_finance_and_auditor(request.user)
        applicant = applicants_for(request.user).filter(pk=pk).first()
        if applicant is None:
            raise NotVisible()
        require(can_change_channels(request.user, applicant))
        data = ChannelsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        applicant = services.set_contact_channels(
            applicant=applicant, by=request.user, how="api", **data.validated_data
        )
        applicant = applicants_for(request.user).select_related("centre", "sensitive__referral").get(pk=pk)
        return Response(ApplicantDetailSerializer(applicant, context={"request": request}).data)


class ReferralInSerializer(serializers.Serializer):
    partner = serializers.IntegerField(
        allow_null=True, help_text="A referral partner of the person's country; null clears."
    )


class ApplicantReferral(APIView):
    @extend_schema(request=ReferralInSerializer, responses=ReferralInSerializer)
    def put(self, request, pk):
        """A field officer of the person's centre records which outside organisation
        referred them (docs/permissions.md, "Referral partners")."""
        applicant = applicants_for(request.user).filter(pk=pk).first()
        if applicant is None:
            raise NotVisible()
        data = ReferralInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        partner = None
        if data.validated_data["partner"] is not None:
            partner = ReferralPartner.objects.filter(pk=data.validated_data["partner"]).first()
            if partner is None:
                raise serializers.ValidationError({"partner": ["No such partner."]})
        applicant = services.record_referral(applicant=applicant, partner=partner, by=request.user)
        return Response({"partner": applicant.referred_by_id})
