"""REST API v1 for the field officer's offline web app (docs/api.md "Field work
offline"): the field pack, the session check before a sync, and the sync of one item."""

import json

from django.middleware.csrf import get_token
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from applicants.consent import SPECIAL_PURPOSES
from applicants.models import Language, Sex, TargetGroup
from assessments.api import EnrolmentSerializer
from assessments.models import MAX_VISIT_PHOTOS, MonitoringVisit
from assessments.services import check_visit_request_size
from core.errors import NotAllowed
from grants.models import GrantApplication, Sector, max_length

from . import pack, sync


class ChoiceOut(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class PackCentre(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    country = serializers.CharField()


class PackUser(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PackVisit(serializers.Serializer):
    id = serializers.IntegerField()
    application = serializers.IntegerField()
    business_name = serializers.CharField()
    person = serializers.CharField()
    centre = serializers.IntegerField()
    months = serializers.IntegerField()
    due_on = serializers.DateField()
    window_opens = serializers.DateField()


class PackSession(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()


class PackPerson(serializers.Serializer):
    application = serializers.IntegerField()
    name = serializers.CharField()


class PackMark(serializers.Serializer):
    session = serializers.IntegerField()
    application = serializers.IntegerField()
    present = serializers.BooleanField()


class PackDirectPerson(serializers.Serializer):
    applicant = serializers.IntegerField(help_text="The person's record: what their attendance item names.")
    name = serializers.CharField()


class PackDirectMark(serializers.Serializer):
    session = serializers.IntegerField()
    applicant = serializers.IntegerField()
    present = serializers.BooleanField()


class PackCohort(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    centre = serializers.IntegerField()
    programme = serializers.IntegerField()
    sessions = PackSession(many=True)
    people = PackPerson(many=True)
    marks = PackMark(many=True)
    direct_people = PackDirectPerson(
        many=True,
        help_text="People enrolled without a grant application (training as a service), "
        "of the officer's centres.",
    )
    direct_marks = PackDirectMark(many=True, help_text="Their marks.")


class PackProgramme(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    country = serializers.CharField()


class FieldPackSerializer(serializers.Serializer):
    issued_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text="The phone deletes the pack at this time.")
    days = serializers.IntegerField(help_text="FIELD_PACK_DAYS.")
    user = PackUser()
    centres = PackCentre(many=True)
    visits = PackVisit(many=True)
    cohorts = PackCohort(many=True)
    programmes = PackProgramme(many=True)
    sectors = ChoiceOut(many=True)
    target_groups = ChoiceOut(many=True)
    sexes = ChoiceOut(many=True)


class FieldOfficersOnly:
    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not pack.may_use_field_pack(request.user):
            raise NotAllowed("Only field officers work offline.")


class FieldPack(FieldOfficersOnly, APIView):
    """What the officer's phone keeps to work without signal, for FIELD_PACK_DAYS."""

    # 401 (not signed in) and 403 (not a field officer) carry the project's error shape
    # (config/schema.py adds them to every operation).
    @extend_schema(responses={200: FieldPackSerializer})
    def get(self, request):
        return Response(FieldPackSerializer(pack.field_pack(request.user)).data)


class FieldSessionSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    csrf_token = serializers.CharField(help_text="Send as X-CSRFToken with the sync (session sign-in).")


class FieldSession(FieldOfficersOnly, APIView):
    """Asked before a sync: whether the session still holds, for whom, and the CSRF token
    of this session (a page kept offline holds the token of an older one)."""

    @extend_schema(responses={200: FieldSessionSerializer})
    def get(self, request):
        return Response({"user": request.user.pk, "csrf_token": get_token(request)})


class VisitItemSerializer(serializers.Serializer):
    visit = serializers.IntegerField()
    visited_on = serializers.DateField()
    operating = serializers.BooleanField()
    equipment_in_use = serializers.BooleanField()
    monthly_revenue = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    jobs_owner = serializers.IntegerField(min_value=0, max_value=1000, required=False, default=0)
    jobs_family = serializers.IntegerField(min_value=0, max_value=1000, required=False, default=0)
    jobs_employees = serializers.IntegerField(min_value=0, max_value=1000, required=False, default=0)
    notes = serializers.CharField(
        required=False, allow_blank=True, max_length=max_length(MonitoringVisit, "notes")
    )
    known_recorded_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="The server's recorded_at the officer saw (a correction sent after a conflict); "
        "null for a visit not yet recorded.",
    )


class AttendanceItemSerializer(EnrolmentSerializer):
    """The person by their `application` or, enrolled without one, as `applicant`
    (exactly one: `application_or_applicant`, as the online attendance)."""

    # The rule in the request schema too (config.schema.AutoSchema).
    schema_rules = {"oneOf": [{"required": ["application"]}, {"required": ["applicant"]}]}

    application = serializers.IntegerField(required=False, help_text="The person's grant application.")
    applicant = serializers.IntegerField(
        required=False, help_text="Or the person, enrolled without an application (the pack's direct_people)."
    )
    session = serializers.IntegerField()
    present = serializers.BooleanField()
    known_present = serializers.BooleanField(
        required=False, allow_null=True, help_text="The mark the pack held (null: none)."
    )


class RegistrationItemSerializer(serializers.Serializer):
    centre = serializers.IntegerField()
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    date_of_birth = serializers.DateField()
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    municipality = serializers.CharField(max_length=100, required=False, allow_blank=True)
    household_size = serializers.IntegerField(min_value=1, max_value=50, required=False, default=1)
    dependants = serializers.IntegerField(min_value=0, max_value=50, required=False, default=0)
    language = serializers.ChoiceField(choices=Language.choices, required=False, default="sr-latn")
    target_groups = serializers.ListField(
        child=serializers.ChoiceField(choices=TargetGroup.choices), allow_empty=False
    )
    consent_on_paper = serializers.BooleanField(
        help_text="The person signed the paper consent form; the officer keeps it."
    )
    special_consents = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(SPECIAL_PURPOSES)), required=False, default=list
    )
    programme = serializers.IntegerField(
        required=False, allow_null=True, help_text="Start a draft application."
    )
    business_name = serializers.CharField(
        required=False, allow_blank=True, max_length=max_length(GrantApplication, "business_name")
    )
    sector = serializers.ChoiceField(choices=Sector.choices, required=False, allow_blank=True)

    # A draft needs the business's name and sector (config.schema.AutoSchema): refused is
    # a body naming a programme whose name is missing or blank, or whose sector is.
    schema_rules = {
        "not": {
            "required": ["programme"],
            "properties": {"programme": {"type": "integer", "minimum": 1}},
            "anyOf": [
                {"not": {"required": ["business_name"]}},
                {"required": ["business_name"], "properties": {"business_name": {"pattern": "^\\s*$"}}},
                {"not": {"required": ["sector"]}},
                {"required": ["sector"], "properties": {"sector": {"maxLength": 0}}},
            ],
        }
    }

    def validate(self, attrs):
        if attrs.get("programme") and not (attrs.get("business_name", "").strip() and attrs.get("sector")):
            raise serializers.ValidationError(
                {"business_name": ["A draft application needs the business's name and sector."]}
            )
        return attrs


class FieldItemSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="Made on the device; also the request's Idempotency-Key.")
    kind = serializers.ChoiceField(choices=sync.KINDS)
    captured_at = serializers.DateTimeField(help_text="When the officer saved it on the device.")
    visit = VisitItemSerializer(required=False)
    attendance = AttendanceItemSerializer(required=False)
    registration = RegistrationItemSerializer(required=False)

    def validate(self, attrs):
        if attrs["kind"] not in attrs:
            raise serializers.ValidationError(
                {attrs["kind"]: ["Required for this kind of item."]}, code="item_kind"
            )
        extra = [kind for kind in sync.KINDS if kind != attrs["kind"] and kind in attrs]
        if extra:
            raise serializers.ValidationError(
                {extra[0]: ["Only the item's own kind is sent."]}, code="item_kind"
            )
        return attrs


class FieldItemUploadSerializer(serializers.Serializer):
    item = serializers.CharField(help_text="The item (FieldItem) as JSON text.")
    photos = serializers.ListField(child=serializers.FileField(), required=False, max_length=MAX_VISIT_PHOTOS)


class FieldRecordSerializer(serializers.Serializer):
    """The server's version of the record: the one made, or the one in conflict."""

    kind = serializers.ChoiceField(choices=sync.KINDS)
    id = serializers.IntegerField(allow_null=True)
    application = serializers.IntegerField(required=False, allow_null=True)
    applicant = serializers.IntegerField(
        required=False, help_text="The person of a mark made without an application."
    )
    state = serializers.CharField(required=False)
    visited_on = serializers.DateField(required=False, allow_null=True)
    operating = serializers.BooleanField(required=False, allow_null=True)
    equipment_in_use = serializers.BooleanField(required=False, allow_null=True)
    monthly_revenue = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True
    )
    jobs_owner = serializers.IntegerField(required=False)
    jobs_family = serializers.IntegerField(required=False)
    jobs_employees = serializers.IntegerField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    photos = serializers.IntegerField(required=False, help_text="Photos received with this item.")
    session = serializers.IntegerField(required=False)
    present = serializers.BooleanField(required=False, allow_null=True)
    possible_duplicates = serializers.IntegerField(required=False)
    recorded_by = serializers.CharField(required=False, allow_blank=True)
    recorded_at = serializers.DateTimeField(required=False, allow_null=True)


class FieldAnswerSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    outcome = serializers.ChoiceField(choices=sync.OUTCOMES)
    detail = serializers.CharField(help_text="In the officer's language.")
    code = serializers.CharField(allow_blank=True)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    record = FieldRecordSerializer(allow_null=True)


def _answer_body(item_id, answer):
    return FieldAnswerSerializer(
        {
            "id": item_id,
            "outcome": answer.outcome,
            "detail": answer.detail,
            "code": answer.code,
            "errors": answer.errors,
            "record": answer.record,
        }
    ).data


class FieldSync(FieldOfficersOnly, APIView):
    """One item captured offline. Send it with `Idempotency-Key: <item id>`; the answer
    says created, already received, refused or conflict (with the server's version)."""

    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema(
        request={"application/json": FieldItemSerializer, "multipart/form-data": FieldItemUploadSerializer},
        # A refused item (400, 403, 404) and a conflict (409) answer a FieldAnswer too,
        # which has the project's error shape (`detail`, `code`) that config/schema.py
        # documents for those codes, besides `outcome`, `errors` and `record`.
        responses={
            201: OpenApiResponse(FieldAnswerSerializer, description="created"),
            200: OpenApiResponse(FieldAnswerSerializer, description="already received"),
        },
    )
    def post(self, request):
        photos = []
        if request.content_type.startswith("multipart/"):
            check_visit_request_size(request.META.get("CONTENT_LENGTH"))
            upload = FieldItemUploadSerializer(data=request.data)
            upload.is_valid(raise_exception=True)
            try:
                raw = json.loads(upload.validated_data["item"])
            except ValueError:
                raise serializers.ValidationError({"item": ["Not JSON."]}, code="item_not_json") from None
            photos = upload.validated_data.get("photos", [])
        else:
            raw = request.data
        item = FieldItemSerializer(data=raw)
        item.is_valid(raise_exception=True)
        values = item.validated_data
        if photos and values["kind"] != sync.VISIT:
            raise serializers.ValidationError({"photos": ["Only a visit has photos."]})
        answer = sync.sync_item(
            by=request.user,
            item_id=values["id"],
            kind=values["kind"],
            captured_at=values["captured_at"],
            data=values[values["kind"]],
            photos=photos,
        )
        return Response(_answer_body(values["id"], answer), status=answer.status)
