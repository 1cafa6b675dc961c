"""REST API v1 for programmes, applications, transitions, history, documents, deliveries
and visits (docs/api.md). Thin: permission-filtered selectors to read, services to write."""

import hashlib
import json
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from applicants import roles
from applicants.institutions import institutions_for
from applicants.models import Applicant, TargetGroup
from applicants.selectors import applicants_for
from core import parsers
from core.changes import apply_changes, changes_query
from core.errors import NotAllowed, NotVisible, PreconditionFailed, ServiceError, require

from . import documents as document_service
from . import permissions, selectors, services, transitions
from .models import (
    MAX_QUANTITY,
    Call,
    CooperativeMember,
    CostReapproval,
    Delivery,
    DeliveryLine,
    Document,
    DocumentKind,
    EquipmentItem,
    EquipmentOutcome,
    GrantApplication,
    Programme,
    Sector,
    max_length,
)
from .selectors import APPLICANT_ACTOR
from .workflow import State


class ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False)
    description = serializers.CharField(max_length=max_length(EquipmentItem, "description"))
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    # What the approval granted (blank before approval; less than asked after a reduced one).
    approved_quantity = serializers.IntegerField(read_only=True, allow_null=True)
    approved_unit_cost = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, allow_null=True
    )


class PlanSerializer(serializers.Serializer):
    activity = serializers.CharField(
        max_length=max_length(GrantApplication, "activity"), allow_blank=True, required=False
    )
    market = serializers.CharField(
        max_length=max_length(GrantApplication, "market"), allow_blank=True, required=False
    )
    experience = serializers.CharField(
        max_length=max_length(GrantApplication, "experience"), allow_blank=True, required=False
    )
    expected_monthly_revenue = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    expected_monthly_costs = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    jobs_planned = serializers.IntegerField(min_value=0, max_value=1000, required=False)


PLAN_TEXTS = ("activity", "market", "experience")


class PlanReadSerializer(PlanSerializer):
    """The plan as read: the texts are left out for finance, so none is required."""

    jobs_planned = serializers.IntegerField(required=False, allow_null=True)


class MemberSerializer(serializers.Serializer):
    """A cooperative member: a registered person (`applicant`), their role and dates.
    Given by an applicant, a member's `date_of_birth` is asked too (docs/api.md)."""

    applicant = serializers.IntegerField()
    role = serializers.ChoiceField(choices=CooperativeMember.Role.choices, required=False, default="member")
    joined_on = serializers.DateField(required=False, allow_null=True)
    left_on = serializers.DateField(required=False, allow_null=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True, write_only=True)


class MemberReadSerializer(serializers.Serializer):
    applicant = serializers.IntegerField(source="applicant_id")
    role = serializers.CharField()
    joined_on = serializers.DateField(allow_null=True)
    left_on = serializers.DateField(allow_null=True)


COOPERATIVE_FIELDS = ("cooperative_registration_number", "cooperative_registered_on")


class ApplicationSerializer(serializers.ModelSerializer):
    programme_name = serializers.CharField(source="programme.name", read_only=True)
    currency = serializers.CharField(source="programme.currency", read_only=True)
    # Not read_only: left out for finance, so not "required" in the response schema
    # (this serializer only ever writes responses).
    applicant_name = serializers.CharField(
        source="applicant.full_name", required=False, help_text="Left out for finance (docs/permissions.md)."
    )
    centre_name = serializers.CharField(source="centre.name", read_only=True)
    plan = serializers.SerializerMethodField()
    items = ItemSerializer(many=True, read_only=True)
    members = serializers.SerializerMethodField()

    class Meta:
        model = GrantApplication
        fields = [
            "id",
            "state",
            "applicant",
            "applicant_name",
            "programme",
            "programme_name",
            "call",
            "currency",
            "centre",
            "centre_name",
            "business_name",
            "sector",
            "institution",
            "is_cooperative",
            "cooperative_registration_number",
            "cooperative_registered_on",
            "members",
            "plan",
            "items",
            "requested_total",
            "approved_amount",
            "assigned_officer",
            "created_at",
            "updated_at",
            "submitted_at",
            "approved_at",
            "delivered_at",
            "closed_at",
        ]
        read_only_fields = fields

    @extend_schema_field(MemberReadSerializer(many=True))
    def get_members(self, obj) -> list:
        return MemberReadSerializer(obj.memberships.order_by("pk"), many=True).data

    @extend_schema_field(PlanReadSerializer)
    def get_plan(self, obj) -> dict:
        plan = PlanSerializer(obj).data
        if not self._names:
            # The applicant's own words may tell their story: only the figures.
            for key in PLAN_TEXTS:
                plan.pop(key, None)
        return plan

    @property
    def _names(self):
        request = self.context.get("request")
        return request is None or roles.sees_names(request.user)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self._names:
            # Finance knows grants by number, business and public labels; the name of
            # the person is on the handover protocol only (docs/permissions.md).
            data.pop("applicant_name", None)
            data["programme_name"] = instance.programme.public_label
            data["centre_name"] = instance.centre.public_label
        return data


class ApplicationListSerializer(ApplicationSerializer):
    """The list: same keys as the detail minus the plan's long texts."""

    class Meta(ApplicationSerializer.Meta):
        fields = [f for f in ApplicationSerializer.Meta.fields if f not in ("plan", "members")]
        read_only_fields = fields


class ApplicationCreateSerializer(serializers.Serializer):
    programme = serializers.IntegerField()
    call = serializers.IntegerField(
        required=False, help_text="One of the programme's open calls; left out: the open call for the centre."
    )
    applicant = serializers.IntegerField(required=False)
    institution = serializers.IntegerField(
        required=False,
        help_text="An institution of the caller's centres (GET institutions/): an institutional grant, its "
        "contact person the applicant. Leave `applicant` out; the programme must allow institutions.",
    )
    business_name = serializers.CharField(max_length=max_length(GrantApplication, "business_name"))
    sector = serializers.ChoiceField(choices=Sector.choices)
    is_cooperative = serializers.BooleanField(required=False, default=False)
    cooperative_registration_number = serializers.CharField(
        max_length=max_length(GrantApplication, "cooperative_registration_number"),
        required=False,
        allow_blank=True,
    )
    cooperative_registered_on = serializers.DateField(required=False, allow_null=True)
    members = MemberSerializer(many=True, required=False)
    plan = PlanSerializer(required=False)
    items = ItemSerializer(many=True, required=False)


class ApplicationUpdateSerializer(serializers.Serializer):
    business_name = serializers.CharField(
        max_length=max_length(GrantApplication, "business_name"), required=False
    )
    sector = serializers.ChoiceField(choices=Sector.choices, required=False)
    is_cooperative = serializers.BooleanField(required=False)
    cooperative_registration_number = serializers.CharField(
        max_length=max_length(GrantApplication, "cooperative_registration_number"),
        required=False,
        allow_blank=True,
    )
    cooperative_registered_on = serializers.DateField(required=False, allow_null=True)
    members = MemberSerializer(many=True, required=False)
    plan = PlanSerializer(required=False)
    items = ItemSerializer(many=True, required=False)


def _save_cooperative(application, by, values):
    """The cooperative's details and members from a create or edit body, if given."""
    if "is_cooperative" in values or any(name in values for name in COOPERATIVE_FIELDS):
        application.refresh_from_db()
        services.set_cooperative(
            application=application,
            by=by,
            is_cooperative=values.get("is_cooperative", application.is_cooperative),
            number=values.get("cooperative_registration_number", application.cooperative_registration_number),
            registered_on=values.get("cooperative_registered_on", application.cooperative_registered_on),
        )
    if "members" in values:
        services.set_members(application=application, by=by, members=[dict(row) for row in values["members"]])


class CallSerializer(serializers.ModelSerializer):
    centres = serializers.SerializerMethodField()
    is_open = serializers.SerializerMethodField()

    class Meta:
        model = Call
        fields = ["id", "name", "centres", "opens", "closes", "revision_deadline", "budget", "is_open"]

    def get_centres(self, obj) -> list[int]:
        """The centres the call is for; empty: every centre of the programme's country."""
        return sorted(centre.pk for centre in obj.centres.all())

    def get_is_open(self, obj) -> bool:
        return obj.is_open()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None:
            data["name"] = str(instance.label_for(request.user))
        return data


class ProgrammeSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", read_only=True)
    call_open = serializers.SerializerMethodField()
    # The calls' envelope: the first opening and the last closing of the programme's calls.
    call_opens = serializers.DateField(read_only=True, allow_null=True)
    call_closes = serializers.DateField(read_only=True, allow_null=True)
    calls = CallSerializer(many=True, read_only=True)  # (names by the reader: Call.label_for)
    rubric = serializers.SerializerMethodField()
    public_label = serializers.CharField(
        read_only=True, help_text="What finance and auditors read as `name`."
    )
    regional_programme = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="The regional programme this is one country's part of (reports filter "
        "`regional_programme`), or null.",
    )
    # Not read_only: left out for finance and auditors, so not "required" in the schema.
    target_groups = serializers.ListField(
        child=serializers.ChoiceField(choices=TargetGroup.choices),
        required=False,
        help_text="Who may apply; left out for finance and auditors.",
    )
    visit_months = serializers.ListField(
        child=serializers.IntegerField(min_value=1), read_only=True, help_text="months after delivery"
    )

    class Meta:
        model = Programme
        fields = [
            "id",
            "name",
            "public_label",
            "donor",
            "country",
            "currency",
            "regional_programme",
            "budget",
            "ceiling",
            "target_groups",
            "training_threshold",
            "cost_tolerance",
            "pass_mark",
            "call_opens",
            "call_closes",
            "call_open",
            "calls",
            "visit_months",
            "rubric",
        ]

    def get_call_open(self, obj) -> bool:
        return obj.call_is_open()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is not None and roles.uses_public_labels(request.user):
            # Finance and the auditor: the public label, and not whom the programme is
            # for (a grant number tied to "former inmates only" says it all).
            data["name"] = instance.public_label
            data.pop("target_groups")
        return data

    @extend_schema_field(
        inline_serializer(
            "RubricCriterion",
            {
                "criterion": serializers.CharField(),
                "label": serializers.CharField(),
                "weight": serializers.DecimalField(max_digits=5, decimal_places=2),
            },
            many=True,
        )
    )
    def get_rubric(self, obj) -> list:
        return [
            {"criterion": c.criterion, "label": c.label, "weight": str(c.weight)} for c in obj.rubric.all()
        ]


class ProgrammeList(ListAPIView):
    serializer_class = ProgrammeSerializer

    def get_queryset(self):
        return selectors.programmes_for(self.request.user).prefetch_related("rubric", "calls__centres")


class AnyAccept(BaseContentNegotiation):
    """File downloads answer whatever the client accepts; errors stay JSON."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


class NoAuditor:
    """The auditor reads reports only: 403 on applications and everything below them."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        user = request.user
        if (
            user.is_authenticated
            and roles.has_role(user, roles.AUDITOR)
            and not roles.has_role(user, roles.PROGRAMME_MANAGER)
        ):
            raise NotAllowed("Auditors see aggregate reports only.")


def get_application(user, pk):
    """One application the user may see, or 404 (never a hint that it exists)."""
    application = (
        selectors.applications_for(user)
        .select_related("programme", "applicant", "centre")
        .filter(pk=pk)
        .first()
    )
    if application is None:
        raise NotVisible()
    return application


_STATES = "|".join(value for value, _label in State.CHOICES)


@extend_schema_field({"type": "string", "pattern": f"^,*(?:{_STATES})(?:,+(?:{_STATES}))*,*$"})
class StatesField(serializers.CharField):
    """Comma-separated workflow states, each one of them."""

    def to_internal_value(self, data):
        names = [name for name in super().to_internal_value(data).split(",") if name]
        known = [value for value, _label in State.CHOICES]
        unknown = [name for name in names if name not in known]
        if unknown:
            raise serializers.ValidationError(
                f"Unknown state: {', '.join(unknown)}. One or more of: {', '.join(known)}."
            )
        return ",".join(names)


class ApplicationListQuery(serializers.Serializer):
    state = StatesField(required=False, help_text="One or more states, comma-separated.")
    programme = serializers.IntegerField(required=False, min_value=1)
    centre = serializers.IntegerField(required=False, min_value=1)
    q = serializers.CharField(
        required=False, max_length=100, help_text="Business name (and names, for roles that read them)."
    )


ApplicationChangesQuery = changes_query(
    ["created_at", "updated_at", "id"], name="ApplicationChangesQuery", base=ApplicationListQuery
)


class ApplicationListCreate(NoAuditor, ListAPIView):
    serializer_class = ApplicationListSerializer

    @extend_schema(parameters=[ApplicationChangesQuery])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        # Strict: an unknown state or a programme that is not a number is 400, never an
        # empty list that looks like "none".
        query = ApplicationChangesQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = {k: v for k, v in query.validated_data.items() if k not in ("updated_since", "ordering")}
        return apply_changes(
            selectors.applications_with_items(self.request.user, **filters), query.validated_data
        )

    @extend_schema(request=ApplicationCreateSerializer, responses={201: ApplicationSerializer})
    def post(self, request):
        data = ApplicationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        programme = selectors.programmes_for(request.user).filter(pk=values["programme"]).first()
        if programme is None:
            raise serializers.ValidationError({"programme": ["Unknown programme."]})
        institution = None
        if "institution" in values:
            if "applicant" in values:
                raise serializers.ValidationError(
                    {"applicant": ["Give the institution or the applicant, not both."]}
                )
            institution = institutions_for(request.user).filter(pk=values["institution"]).first()
            if institution is None:
                raise serializers.ValidationError({"institution": ["Unknown institution."]})
            applicant = institution.contact
        elif "applicant" in values:
            applicant = applicants_for(request.user).filter(pk=values["applicant"]).first()
            if applicant is None:
                raise serializers.ValidationError({"applicant": ["Unknown applicant."]})
        else:
            applicant = Applicant.objects.filter(user=request.user).first()
            if applicant is None:
                raise serializers.ValidationError(
                    {"applicant": ["Staff give the applicant the application is for."]}
                )
        with transaction.atomic():
            application = services.create_application(
                by=request.user,
                applicant=applicant,
                programme=programme,
                business_name=values["business_name"],
                sector=values["sector"],
                plan=values.get("plan") or {},
                items=[dict(i) for i in values.get("items", [])],
                is_cooperative=values.get("is_cooperative", False),
                call=values.get("call"),
                institution=institution,
            )
            _save_cooperative(
                application, request.user, {k: v for k, v in values.items() if k != "is_cooperative"}
            )
        application = get_application(request.user, application.pk)
        return Response(
            ApplicationSerializer(application, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


def representation_etag(data):
    """An application's ETag: a digest of what the caller reads, so any change they could
    see (a field, an item, the state) gives a new one."""
    body = json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder).encode()
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def _with_etag(response):
    response["ETag"] = representation_etag(response.data)
    return response


IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "The ETag the read returned: the edit is made only if the application is still as it "
        "was read, else 412 and nothing changes. Without it, the edit is made (as before)."
    ),
)


def check_if_match(request, application):
    """Refuse a stale edit: `If-Match` must name the application's current ETag (or `*`)."""
    wanted = request.headers.get("If-Match")
    if wanted is None:
        return
    tags = {tag.strip() for tag in wanted.split(",") if tag.strip()}
    current = representation_etag(ApplicationSerializer(application, context={"request": request}).data)
    if "*" not in tags and current not in tags:
        raise PreconditionFailed(
            "This application changed since you read it: read it again (GET) and repeat your edit "
            "with its new ETag. Nothing was changed."
        )


class ApplicationDetail(NoAuditor, APIView):
    @extend_schema(responses=ApplicationSerializer)
    def get(self, request, pk):
        application = get_application(request.user, pk)
        return _with_etag(Response(ApplicationSerializer(application, context={"request": request}).data))

    @extend_schema(
        request=ApplicationUpdateSerializer,
        responses=ApplicationSerializer,
        parameters=[IF_MATCH],
    )
    def patch(self, request, pk):
        application = get_application(request.user, pk)
        data = ApplicationUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        with transaction.atomic():
            if "If-Match" in request.headers:
                # Locked while compared and changed: two edits of one read cannot both pass.
                GrantApplication.objects.select_for_update(no_key=True).filter(pk=application.pk).first()
                application = get_application(request.user, pk)
                check_if_match(request, application)
            services.update_draft(
                application=application,
                by=request.user,
                business_name=values.get("business_name"),
                sector=values.get("sector"),
                plan=values.get("plan"),
                items=[dict(i) for i in values["items"]] if "items" in values else None,
            )
            _save_cooperative(application, request.user, values)
        return _with_etag(
            Response(
                ApplicationSerializer(get_application(request.user, pk), context={"request": request}).data
            )
        )


class TransitionSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=transitions.NAMES)
    target = serializers.CharField()
    allowed = serializers.BooleanField()
    reason = serializers.CharField()


class TransitionList(NoAuditor, APIView):
    pagination_class = None

    @extend_schema(responses=TransitionSerializer(many=True))
    def get(self, request, pk):
        application = get_application(request.user, pk)
        rows = services.available_transitions(application, request.user)
        return Response([{k: r[k] for k in ("name", "target", "allowed", "reason")} for r in rows])


class EquipmentOutcomeSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="a delivery line of this grant")
    outcome = serializers.ChoiceField(choices=EquipmentOutcome.choices)
    proceeds = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    to_item = serializers.IntegerField(
        required=False, help_text="reallocated: the item still due of another approved grant of the programme"
    )


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=transitions.COMMENT_MAX_LENGTH
    )
    # discontinue only: what became of each delivered item (docs/api.md).
    equipment = EquipmentOutcomeSerializer(many=True, required=False)


class ApprovedItemSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY)
    unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class TransitionTakeSerializer(CommentSerializer):
    # `approve` only: what is granted per item (less than asked: a reason in `comment`).
    items = ApprovedItemSerializer(many=True, required=False)


class TransitionTake(NoAuditor, APIView):
    @extend_schema(
        request=TransitionTakeSerializer,
        responses=ApplicationSerializer,
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, enum=transitions.NAMES)],
    )
    def post(self, request, pk, name):
        application = get_application(request.user, pk)
        data = TransitionTakeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if "items" in values:
            if name != "approve":
                raise ServiceError(
                    "Items are given with approve only.",
                    code="items_with_approve_only",
                    details={"items": ["Items are given with approve only."]},
                )
            granted = {row["item"]: (row["quantity"], row["unit_cost"]) for row in values["items"]}
            if len(granted) != len(values["items"]):
                raise serializers.ValidationError({"items": ["Each item once."]})
            services.approve_reduced(
                application=application, by=request.user, items=granted, reason=values.get("comment", "")
            )
        elif name == "discontinue":
            services.discontinue_grant(
                application=application,
                by=request.user,
                comment=values.get("comment", ""),
                outcomes=[dict(row) for row in values.get("equipment", [])],
            )
        else:
            services.take_transition(
                application=application, name=name, by=request.user, comment=values.get("comment", "")
            )
        return Response(
            ApplicationSerializer(get_application(request.user, pk), context={"request": request}).data
        )


class HistorySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_name")
    # Both left out for finance (to_representation): not "required" in the schema.
    on_behalf_of = serializers.CharField(source="on_behalf_of.full_name", required=False, allow_null=True)
    action = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    comment = serializers.CharField(required=False)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        party_user_ids = self.context.get("party_user_ids")
        if party_user_ids is not None:
            # No names for finance: who acted for whom, and comments (free text that
            # may name the person), are left out; the applicant is "the applicant".
            data.pop("on_behalf_of")
            data.pop("comment")
            if instance.actor_id is not None and instance.actor_id in party_user_ids:
                data["actor"] = APPLICANT_ACTOR
        return data


class History(NoAuditor, ListAPIView):
    serializer_class = HistorySerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not roles.sees_names(self.request.user):
            application = get_application(self.request.user, self.kwargs["pk"])
            members = application.members.exclude(user=None).values_list("user_id", flat=True)
            context["party_user_ids"] = {application.applicant.user_id, *members}
        return context

    def get_queryset(self):
        application = get_application(self.request.user, self.kwargs["pk"])
        return selectors.history_for(self.request.user, application)


class DocumentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "application",
            "kind",
            "original_name",
            "size",
            "content_type",
            "sha256",
            "created_at",
            "updated_at",
            "download_url",
        ]

    def get_download_url(self, obj) -> str:
        return f"/api/v1/documents/{obj.pk}/download/"


class DocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    file = serializers.FileField()


DocumentChangesQuery = changes_query(["created_at", "updated_at", "id"], name="DocumentChangesQuery")


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class DocumentListCreate(NoAuditor, ListAPIView):
    """Uploads manage their own transactions (grants.documents): no lock is held while
    the file travels to storage, and a failed save can remove the object again."""

    serializer_class = DocumentSerializer
    parser_classes = parsers.UPLOAD_BODIES

    def initial(self, request, *args, **kwargs):
        if request.method == "POST":
            # Before authentication parses the body: a body too large for any document
            # is refused unread (413).
            document_service.check_request_size(request.META.get("CONTENT_LENGTH"))
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc):
        # DRF marks the innermost transaction for rollback on the errors it answers
        # (ATOMIC_REQUESTS); outside a request transaction that would be a caller's.
        with transaction.atomic():
            return super().handle_exception(exc)

    @extend_schema(parameters=[DocumentChangesQuery])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = DocumentChangesQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        application = get_application(self.request.user, self.kwargs["pk"])
        return apply_changes(
            document_service.visible_documents(self.request.user, application), query.validated_data
        )

    @extend_schema(
        request=DocumentUploadSerializer,
        responses={201: DocumentSerializer, 413: None, 415: None, 503: None},
    )
    def post(self, request, pk):
        application = get_application(request.user, pk)
        upload = request.FILES.get("file")
        kind = request.data.get("kind", "")
        if upload is None:
            raise ServiceError("Attach a file.", code="required", details={"file": ["Attach a file."]})
        document = document_service.upload_document(
            application=application, by=request.user, kind=kind, uploaded_file=upload
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


class DocumentDownload(NoAuditor, APIView):
    @extend_schema(
        responses={
            **{(200, content_type): bytes for content_type in sorted(document_service.EXTENSIONS)},
            302: None,
        }
    )
    def get(self, request, pk):
        document = get_object_or_404(
            Document.objects.select_related("application__applicant"),
            pk=pk,
            application__in=selectors.applications_for(request.user),
        )
        return download_response(document_service.download_document(document=document, by=request.user))


def serve_document(document):
    """The response for a document whose permission check and audit are done."""
    return download_response(document_service.prepare_download(document))


def download_response(download):
    """302 to the presigned URL (S3) or the file streamed in blocks (local); either way
    the browser saves it under its cleaned name and never sniffs its type."""
    if download.url is not None:
        response = HttpResponseRedirect(download.url)
    else:
        response = FileResponse(
            download.file,
            as_attachment=True,
            filename=download.filename,
            content_type=download.content_type,
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


class DeliveryLineSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)
    actual_unit_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    serial_number = serializers.CharField(
        required=False, allow_blank=True, max_length=max_length(DeliveryLine, "serial_number")
    )
    asset_tag = serializers.CharField(
        required=False, allow_blank=True, max_length=max_length(DeliveryLine, "asset_tag")
    )


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    delivered_on = serializers.DateField()
    # Optional when a purchase order is named: the order's supplier is taken.
    supplier = serializers.CharField(
        max_length=max_length(Delivery, "supplier"), required=False, allow_blank=True, default=""
    )
    invoice_number = serializers.CharField(max_length=max_length(Delivery, "invoice_number"))
    purchase_order = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="An approved purchase order of the grant; required when its programme requires them.",
    )
    lines = DeliveryLineSerializer(many=True)

    # The supplier, unless a purchase order names it (config.schema.AutoSchema): refused
    # is a body whose supplier is missing or blank and whose purchase order is too.
    schema_rules = {
        "not": {
            "properties": {
                "supplier": {"pattern": "^\\s*$"},
                "purchase_order": {"nullable": True, "enum": [None]},
            }
        }
    }


class CostReapprovalSerializer(serializers.ModelSerializer):
    limit = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    reason = serializers.CharField(max_length=max_length(CostReapproval, "reason"))

    class Meta:
        model = CostReapproval
        fields = ["id", "application", "limit", "reason", "approved_by", "created_at"]
        read_only_fields = ["id", "application", "approved_by", "created_at"]


class CostReapprovalListCreate(NoAuditor, ListAPIView):
    """The cost re-approvals of a grant (newest first); a programme manager adds one."""

    serializer_class = CostReapprovalSerializer

    def get_queryset(self):
        application = get_application(self.request.user, self.kwargs["pk"])
        require(permissions.can_view_ledger(self.request.user, application))
        return application.cost_reapprovals.all()

    @extend_schema(request=CostReapprovalSerializer, responses={201: CostReapprovalSerializer})
    def post(self, request, pk):
        application = get_application(request.user, pk)
        data = CostReapprovalSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reapproval = services.reapprove_cost(application=application, by=request.user, **data.validated_data)
        return Response(CostReapprovalSerializer(reapproval).data, status=status.HTTP_201_CREATED)


class DeliveryReadSerializer(serializers.ModelSerializer):
    lines = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "application",
            "delivered_on",
            "supplier",
            "invoice_number",
            "purchase_order",
            "reapproval",
            "created_at",
            "updated_at",
            "lines",
        ]

    @extend_schema_field(
        inline_serializer(
            "DeliveryLineRead",
            {
                "item": serializers.IntegerField(),
                "quantity": serializers.IntegerField(),
                "actual_unit_cost": serializers.DecimalField(max_digits=12, decimal_places=2),
                "amount": serializers.DecimalField(max_digits=14, decimal_places=2),
                "amount_eur": serializers.DecimalField(max_digits=14, decimal_places=2),
                "serial_number": serializers.CharField(allow_blank=True),
                "asset_tag": serializers.CharField(allow_blank=True),
                "reallocated_from": serializers.IntegerField(allow_null=True),
                "book_value": serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True),
            },
            many=True,
        )
    )
    def get_lines(self, obj) -> list:
        return [
            {
                "item": line.item_id,
                "quantity": line.quantity,
                "actual_unit_cost": str(line.actual_unit_cost),
                "amount": str(line.amount),
                "amount_eur": str(line.amount_eur),
                "serial_number": line.serial_number,
                "asset_tag": line.asset_tag,
                "reallocated_from": line.reallocated_from_id,
                "book_value": None if line.book_value is None else str(line.book_value),
            }
            for line in obj.lines.all()
        ]


DeliveryChangesQuery = changes_query(
    ["delivered_on", "created_at", "updated_at", "id"], name="DeliveryChangesQuery"
)


class DeliveryListCreate(NoAuditor, ListAPIView):
    serializer_class = DeliveryReadSerializer

    @extend_schema(parameters=[DeliveryChangesQuery])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = DeliveryChangesQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        application = get_application(self.request.user, self.kwargs["pk"])
        deliveries = application.deliveries.prefetch_related("lines").order_by("delivered_on", "id")
        return apply_changes(deliveries, query.validated_data)

    @extend_schema(request=DeliverySerializer, responses={201: DeliveryReadSerializer})
    def post(self, request, pk):
        application = get_application(request.user, pk)
        data = DeliverySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        delivery = services.record_delivery_lines(
            application=application,
            by=request.user,
            delivered_on=values["delivered_on"],
            supplier=values["supplier"],
            invoice_number=values["invoice_number"],
            lines=[dict(line) for line in values["lines"]],
            purchase_order=values["purchase_order"],
        )
        return Response(DeliveryReadSerializer(delivery).data, status=status.HTTP_201_CREATED)
