"""Webhook endpoints of the calling service account, and their delivery log."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from applicants import tokens
from core.errors import NotVisible

from . import intake, kobo, services
from .models import FormSubmission, WebhookDelivery, WebhookEndpoint
from .webhooks import EVENTS


class EndpointSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=sorted(EVENTS)))

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "events", "active", "consecutive_failures", "disabled_at", "created_at"]
        read_only_fields = ["id", "active", "consecutive_failures", "disabled_at", "created_at"]


class NewEndpointSerializer(EndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="Signs every delivery; shown only here.")

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class RegisterSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(child=serializers.ChoiceField(choices=sorted(EVENTS)), allow_empty=False)


class WebhookPayloadSerializer(serializers.Serializer):
    """The body POSTed to a webhook endpoint (docs/api.md "Webhooks"): ids and states
    only, never personal data. Receivers may type their handler with it."""

    id = serializers.UUIDField(help_text="The delivery's id, as in `Webhook-Id`: deduplicate on it.")
    event = serializers.ChoiceField(choices=sorted(EVENTS))
    occurred_at = serializers.DateTimeField(help_text="When the audited write happened.")
    audit_event = serializers.IntegerField(help_text="The audit event it tells of.")
    application = serializers.IntegerField(help_text="Read it for more, within your scope.")
    action = serializers.CharField(help_text="The audit event's action (`transition`, `delivery`, ...).")
    from_state = serializers.CharField(help_text='The state before; "" when the state did not change.')
    to_state = serializers.CharField(help_text='The state after; "" when the state did not change.')


@extend_schema_field(WebhookPayloadSerializer)
class WebhookPayloadField(serializers.JSONField):
    """The payload as it was sent (stored with the delivery)."""


class DeliverySerializer(serializers.ModelSerializer):
    payload = WebhookPayloadField(read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "audit_event_id",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "created_at",
            "next_attempt_at",
            "sent_at",
            "payload",
        ]


def _endpoints(user):
    account = tokens.service_account_of(user)
    return WebhookEndpoint.objects.none() if account is None else account.webhooks.all()


class EndpointList(ListAPIView):
    """The caller's webhook endpoints (service accounts only register any)."""

    serializer_class = EndpointSerializer

    def get_queryset(self):
        return _endpoints(self.request.user)

    @extend_schema(request=RegisterSerializer, responses={201: NewEndpointSerializer})
    def post(self, request):
        services.account_of(request.user)  # a person is refused before their body is read
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.register_endpoint(by=request.user, **data.validated_data)
        return Response(NewEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetail(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.remove_endpoint(by=request.user, endpoint_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointEnable(APIView):
    @extend_schema(request=None, responses=EndpointSerializer)
    def post(self, request, pk):
        endpoint = services.enable_endpoint(by=request.user, endpoint_id=pk)
        return Response(EndpointSerializer(endpoint).data)


class DeliveryList(ListAPIView):
    """An endpoint's deliveries, newest first: what was sent, how often, what came back."""

    serializer_class = DeliverySerializer

    def get_queryset(self):
        endpoint = _endpoints(self.request.user).filter(pk=self.kwargs["pk"]).first()
        if endpoint is None:
            raise NotVisible
        return endpoint.deliveries.order_by("-created_at")


# ---- form intake (KoboToolbox, ODK) -----------------------------------------------------


class CorrectionsSerializer(serializers.Serializer):
    """Empty until a person corrects the submission."""

    application = serializers.IntegerField(required=False)
    months = serializers.IntegerField(required=False)


@extend_schema_field(CorrectionsSerializer)
class CorrectionsField(serializers.JSONField):
    """What a person set in place of the form's answers ({} when nothing)."""


@extend_schema_field({"type": "object", "additionalProperties": True})
class PayloadField(serializers.JSONField):
    """The submission exactly as the form server posted it."""


class AttachmentIn(serializers.Serializer):
    download_url = serializers.CharField(help_text="Where the form server serves the file.")
    filename = serializers.CharField(help_text="Ends with the answer's file name.")
    mimetype = serializers.CharField(required=False)
    question_xpath = serializers.CharField(required=False, help_text="The photo question's XPath.")


def _submission_in():
    """The submission as KoboToolbox's REST service posts it: answers under their XPath
    (names with a "/" cannot be Python names, hence built here). Any other key is kept
    and ignored; ODK Central's nested groups are read alike (docs/api.md)."""
    fields = {
        "meta/instanceID": serializers.CharField(required=False, help_text='"uuid:…": the submission, once.'),
        "_uuid": serializers.CharField(required=False, help_text="Kobo's copy of the instance id."),
        "__id": serializers.CharField(required=False, help_text="ODK Central's instance id."),
        kobo.APPLICATION: serializers.IntegerField(help_text="The application's id."),
        kobo.MONTHS: serializers.IntegerField(help_text="Which visit: its months after delivery."),
        kobo.VISITED_ON: serializers.DateField(),
        kobo.OPERATING: serializers.ChoiceField(choices=kobo.YES_NO),
        kobo.EQUIPMENT_IN_USE: serializers.ChoiceField(choices=kobo.YES_NO),
        kobo.MONTHLY_REVENUE: serializers.DecimalField(max_digits=12, decimal_places=2, required=False),
        **{name: serializers.IntegerField(required=False, min_value=0) for name in kobo.JOBS.values()},
        kobo.NOTES: serializers.CharField(required=False, allow_blank=True),
        **{
            name: serializers.CharField(required=False, help_text="The photo's file name.")
            for name in kobo.PHOTOS
        },
        "_attachments": AttachmentIn(many=True, required=False),
    }
    return type("KoboSubmissionIn", (serializers.Serializer,), fields)


KoboSubmissionIn = _submission_in()


class SubmissionSerializer(serializers.ModelSerializer):
    class Meta:
        model = FormSubmission
        fields = [
            "id",
            "instance_id",
            "status",
            "reason_code",
            "reason",
            "centre",
            "application",
            "visit",
            "received_at",
            "corrections",
            "resolved_by",
            "resolved_at",
            "resolution",
        ]
        read_only_fields = fields

    corrections = CorrectionsField(read_only=True)


class SubmissionDetailSerializer(SubmissionSerializer):
    payload = PayloadField(read_only=True)

    class Meta(SubmissionSerializer.Meta):
        fields = [*SubmissionSerializer.Meta.fields, "payload", "times_posted", "last_posted_at"]
        read_only_fields = fields


class RefusedSubmissionSerializer(serializers.Serializer):
    """The error shape; for a refused or dismissed submission also its fields (a 422 of the
    Idempotency-Key check has `detail` and `code` alone)."""

    detail = serializers.CharField(help_text="Why the submission is not a visit.")
    code = serializers.CharField(help_text="`reason_code`, or `submission_dismissed`.")
    id = serializers.IntegerField(required=False)
    instance_id = serializers.CharField(required=False)
    status = serializers.ChoiceField(choices=FormSubmission.Status.choices, required=False)
    reason_code = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)
    centre = serializers.IntegerField(required=False, allow_null=True)
    application = serializers.IntegerField(required=False, allow_null=True)
    visit = serializers.IntegerField(required=False, allow_null=True)
    received_at = serializers.DateTimeField(required=False)
    corrections = CorrectionsField(required=False)
    resolved_by = serializers.IntegerField(required=False, allow_null=True)
    resolved_at = serializers.DateTimeField(required=False, allow_null=True)
    resolution = serializers.CharField(required=False)


def submission_answer(submission):
    """The same answer for every post of one submission: 201 with it once it is a visit,
    422 in the error shape (with the submission) while it is refused or dismissed."""
    if submission.status == FormSubmission.Status.RECORDED:
        return Response(SubmissionSerializer(submission).data, status=status.HTTP_201_CREATED)
    body = SubmissionSerializer(submission).data
    dismissed = submission.status == FormSubmission.Status.DISMISSED
    return Response(
        {
            "detail": submission.resolution if dismissed else submission.reason,
            "code": "submission_dismissed" if dismissed else submission.reason_code,
            **body,
        },
        status=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


class KoboIntake(APIView):
    """POST intake/kobo/: a KoboToolbox REST service (JSON) or an ODK Central relay posts
    one monitoring-visit submission, with the service account's key in a custom
    `Authorization: Token <key>` header."""

    parser_classes = [JSONParser]

    @extend_schema(
        request=KoboSubmissionIn,
        responses={201: SubmissionSerializer, 422: RefusedSubmissionSerializer},
    )
    def post(self, request):
        intake.intake_account(request.user)  # a person is refused before their body is read
        return submission_answer(intake.receive_submission(by=request.user, payload=request.data))


class SubmissionListQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=FormSubmission.Status.choices, required=False)


class SubmissionList(ListAPIView):
    """GET intake/submissions/: the form submissions the caller may read, newest first:
    field officers and programme managers those of their centres, a service account its own."""

    serializer_class = SubmissionDetailSerializer

    @extend_schema(parameters=[SubmissionListQuery])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = SubmissionListQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        submissions = intake.submissions_for(self.request.user)
        if "status" in query.validated_data:
            submissions = submissions.filter(status=query.validated_data["status"])
        return submissions.order_by("-received_at", "-id")


def _submission(user, pk):
    submission = intake.submissions_for(user).filter(pk=pk).first()
    if submission is None:
        raise NotVisible
    return submission


class ReapplySerializer(serializers.Serializer):
    application = serializers.IntegerField(min_value=1, max_value=10**9 - 1)
    months = serializers.IntegerField(min_value=1, max_value=120)


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=intake.MAX_RESOLUTION)


class SubmissionReapply(APIView):
    @extend_schema(
        request=ReapplySerializer,
        responses=SubmissionDetailSerializer,
    )
    def post(self, request, pk):
        submission = _submission(request.user, pk)
        data = ReapplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        submission = intake.reapply_submission(submission=submission, by=request.user, **data.validated_data)
        return Response(SubmissionDetailSerializer(submission).data)


class SubmissionDismiss(APIView):
    @extend_schema(
        request=DismissSerializer,
        responses=SubmissionDetailSerializer,
    )
    def post(self, request, pk):
        submission = _submission(request.user, pk)
        data = DismissSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        submission = intake.dismiss_submission(submission=submission, by=request.user, **data.validated_data)
        return Response(SubmissionDetailSerializer(submission).data)
