"""REST API v1: training cohorts, enrolment, attendance, assessments, monitoring visits."""

import json
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from applicants import roles
from applicants.models import IntegrationCentre, Sex
from applicants.selectors import applicants_for, centre_ids
from core import parsers
from core.changes import apply_changes, changes_query
from core.errors import NotAllowed, NotVisible
from grants.api import NoAuditor, get_application
from grants.models import max_length
from grants.selectors import applications_for, programmes_for
from grants.workflow import passes_mark

from . import selectors, services
from .certificates import completion_certificate, direct_certificate
from .models import MAX_VISIT_PHOTOS, Assessment, MonitoringVisit, TrainingCohort, TrainingMeeting


class SessionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    date = serializers.DateField()
    hours = serializers.DecimalField(
        max_digits=4, decimal_places=1, required=False, min_value=Decimal("0.5"), max_value=Decimal("24")
    )


class CohortSerializer(serializers.ModelSerializer):
    sessions = SessionSerializer(many=True)
    enrolled = serializers.IntegerField(read_only=True, source="enrolled_count", default=0)

    class Meta:
        model = TrainingCohort
        fields = ["id", "programme", "centre", "title", "sessions", "enrolled"]


class CohortCreateSerializer(serializers.Serializer):
    programme = serializers.IntegerField()
    centre = serializers.IntegerField()
    title = serializers.CharField(max_length=max_length(TrainingCohort, "title"))
    sessions = SessionSerializer(many=True, allow_empty=False, min_length=1)


class CohortListCreate(NoAuditor, ListAPIView):
    serializer_class = CohortSerializer

    def get_queryset(self):
        return selectors.cohorts_for(self.request.user)

    @extend_schema(request=CohortCreateSerializer, responses={201: CohortSerializer})
    def post(self, request):
        data = CohortCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        centre, programme = _centre_and_programme(request.user, values)
        cohort = services.create_cohort(
            by=request.user,
            programme=programme,
            centre=centre,
            title=values["title"],
            session_dates=[s["date"] for s in values["sessions"]],
            hours_on={s["date"]: s["hours"] for s in values["sessions"] if "hours" in s},
        )
        cohort = selectors.cohorts_for(request.user).get(pk=cohort.pk)
        return Response(CohortSerializer(cohort).data, status=status.HTTP_201_CREATED)


def _centre_and_programme(user, values):
    """The centre (one of the user's) and the programme (one they work on) a cohort or
    a meeting names by id; anything else is a field error."""
    if values["centre"] not in centre_ids(user):
        raise serializers.ValidationError({"centre": ["Choose one of your centres."]})
    programme = programmes_for(user).filter(pk=values["programme"]).first()
    if programme is None:
        raise serializers.ValidationError({"programme": ["Unknown programme."]})
    return IntegrationCentre.objects.get(pk=values["centre"]), programme


def _cohort(user, pk):
    cohort = selectors.cohorts_for(user).filter(pk=pk).first()
    if cohort is None:
        raise NotVisible()
    return cohort


class EnrolmentSerializer(serializers.Serializer):
    application = serializers.IntegerField(
        required=False, help_text="The grant application to enrol (business training before the grant)."
    )
    applicant = serializers.IntegerField(
        required=False,
        help_text="Or a registered person, enrolled without any grant application (training as a service).",
    )

    def validate(self, data):
        if ("application" in data) == ("applicant" in data):
            raise serializers.ValidationError(
                {"application": ["Give either application or applicant."]}, code="application_or_applicant"
            )
        return data


class EnrolmentOut(serializers.Serializer):
    id = serializers.IntegerField()
    cohort = serializers.IntegerField()
    application = serializers.IntegerField(allow_null=True, help_text="null: enrolled without an application")
    applicant = serializers.IntegerField()


def _person(user, values):
    """{"application": ...} or {"applicant": ...} of a request naming one, each looked up
    among those the user may see (404 otherwise)."""
    if values.get("application") is not None:
        return {"application": get_application(user, values["application"])}
    applicant = applicants_for(user).filter(pk=values["applicant"]).first()
    if applicant is None:
        raise NotVisible()
    return {"applicant": applicant}


class Enrolments(NoAuditor, APIView):
    @extend_schema(request=EnrolmentSerializer, responses={201: EnrolmentOut})
    def post(self, request, pk):
        cohort = _cohort(request.user, pk)
        data = EnrolmentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        person = _person(request.user, data.validated_data)
        if "application" in person:
            enrolment = services.enrol(by=request.user, cohort=cohort, application=person["application"])
            applicant_id = person["application"].applicant_id
        else:
            enrolment = services.enrol_applicant(
                by=request.user, cohort=cohort, applicant=person["applicant"]
            )
            applicant_id = person["applicant"].pk
        return Response(
            {
                "id": enrolment.pk,
                "cohort": cohort.pk,
                "application": enrolment.application_id,
                "applicant": applicant_id,
            },
            status=status.HTTP_201_CREATED,
        )


class AttendanceSerializer(EnrolmentSerializer):
    session = serializers.IntegerField()
    present = serializers.BooleanField()


class AttendanceView(NoAuditor, APIView):
    @extend_schema(request=AttendanceSerializer, responses={201: AttendanceSerializer})
    def post(self, request, pk):
        cohort = _cohort(request.user, pk)
        data = AttendanceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        session = cohort.sessions.filter(pk=values["session"]).first()
        if session is None:
            raise serializers.ValidationError({"session": ["This session is not in this cohort."]})
        person = _person(request.user, values)
        services.record_attendance(by=request.user, session=session, present=values["present"], **person)
        who = {key: value.pk for key, value in person.items()}
        return Response(
            {"session": session.pk, **who, "present": values["present"]},
            status=status.HTTP_201_CREATED,
        )


class MarkSerializer(EnrolmentSerializer):
    present = serializers.BooleanField()


class AttendanceSheetSerializer(serializers.Serializer):
    session = serializers.IntegerField()
    records = MarkSerializer(many=True, allow_empty=False, max_length=services.MAX_MARKS_AT_ONCE)


class AttendanceSheetOut(serializers.Serializer):
    session = serializers.IntegerField()
    recorded = serializers.IntegerField(help_text="How many marks the sheet held (all saved).")


class AttendanceSheet(NoAuditor, APIView):
    """Attendance for one session, for many people at once: all marks or none. A mark
    names the person's application or, enrolled without one, the applicant."""

    @extend_schema(request=AttendanceSheetSerializer, responses={201: AttendanceSheetOut})
    def post(self, request, pk):
        cohort = _cohort(request.user, pk)
        data = AttendanceSheetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        session = cohort.sessions.filter(pk=values["session"]).first()
        if session is None:
            raise serializers.ValidationError({"session": ["This session is not in this cohort."]})
        records = values["records"]
        applications = applications_for(request.user).in_bulk(
            {mark["application"] for mark in records if "application" in mark}
        )
        people = applicants_for(request.user).in_bulk(
            {mark["applicant"] for mark in records if "applicant" in mark}
        )
        marks = [
            (
                applications.get(mark["application"])
                if "application" in mark
                else people.get(mark["applicant"]),
                mark["present"],
            )
            for mark in records
        ]
        services.record_attendance_sheet(by=request.user, session=session, marks=marks)
        return Response({"session": session.pk, "recorded": len(marks)}, status=status.HTTP_201_CREATED)


# ---- training as its own service: headcounts, meetings, certificates -------------------


class HeadcountRow(serializers.Serializer):
    sex = serializers.ChoiceField(choices=[("", "not recorded"), *Sex.choices], required=False, default="")
    age_band = serializers.CharField(
        max_length=10,
        required=False,
        default="",
        allow_blank=True,
        help_text="e.g. 25-34; blank: not recorded",
    )
    count = serializers.IntegerField(min_value=0, max_value=services.MAX_COUNT)


class HeadcountIn(serializers.Serializer):
    session = serializers.IntegerField()
    counts = HeadcountRow(many=True, max_length=60)
    total = serializers.IntegerField(
        min_value=0,
        max_value=services.MAX_COUNT,
        required=False,
        allow_null=True,
        help_text="optional: the participants in all, checked against the sum of the counts",
    )


class HeadcountOut(serializers.Serializer):
    session = serializers.IntegerField()
    date = serializers.DateField()
    counts = HeadcountRow(many=True)
    total = serializers.IntegerField()


def headcount_json(session, rows):
    counts = [{"sex": r.sex, "age_band": r.age_band, "count": r.count} for r in rows]
    return {
        "session": session.pk,
        "date": session.date,
        "counts": counts,
        "total": sum(r.count for r in rows),
    }


class Headcounts(NoAuditor, APIView):
    """Participants counted without personal data, per session, where the cohort's
    programme allows it (`anonymous_training`)."""

    @extend_schema(responses={200: HeadcountOut(many=True)})
    def get(self, request, pk):
        cohort = _cohort(request.user, pk)
        rows = selectors.headcounts_of(cohort)
        return Response([headcount_json(s, rows.get(s.pk, [])) for s in cohort.sessions.all()])

    @extend_schema(request=HeadcountIn, responses={201: HeadcountOut})
    def post(self, request, pk):
        cohort = _cohort(request.user, pk)
        data = HeadcountIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        session = cohort.sessions.filter(pk=values["session"]).first()
        if session is None:
            raise serializers.ValidationError({"session": ["This session is not in this cohort."]})
        counts = {}
        for row in values["counts"]:
            key = (row["sex"], row["age_band"])
            if key in counts:
                raise serializers.ValidationError({"counts": ["Each sex and age band once."]})
            counts[key] = row["count"]
        rows = services.record_headcount(
            by=request.user, session=session, counts=counts, total=values.get("total")
        )
        return Response(headcount_json(session, rows), status=status.HTTP_201_CREATED)


class MeetingSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    programme = serializers.IntegerField()
    centre = serializers.IntegerField()
    held_on = serializers.DateField()
    kind = serializers.ChoiceField(choices=TrainingMeeting.Kind.choices)
    participants = serializers.IntegerField(min_value=0, max_value=services.MAX_COUNT)


def meeting_json(meeting):
    return {
        "id": meeting.pk,
        "programme": meeting.programme_id,
        "centre": meeting.centre_id,
        "held_on": meeting.held_on,
        "kind": meeting.kind,
        "participants": meeting.participants,
    }


class Meetings(NoAuditor, ListAPIView):
    """Business training and network meetings of the caller's centres: counts, no names."""

    serializer_class = MeetingSerializer

    def get_queryset(self):
        return selectors.meetings_for(self.request.user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([meeting_json(m) for m in page])

    @extend_schema(request=MeetingSerializer, responses={201: MeetingSerializer})
    def post(self, request):
        data = MeetingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        centre, programme = _centre_and_programme(request.user, values)
        meeting = services.record_meeting(
            by=request.user,
            programme=programme,
            centre=centre,
            held_on=values["held_on"],
            kind=values["kind"],
            participants=values["participants"],
        )
        return Response(meeting_json(meeting), status=status.HTTP_201_CREATED)


class EnrolmentCertificate(NoAuditor, APIView):
    """The neutral completion certificate (PDF) of someone trained without a grant
    application; for an enrolment through an application see
    applications/{id}/certificate/."""

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request, pk):
        enrolment = selectors.direct_enrolment(request.user, pk)
        if enrolment is None:
            raise NotVisible()
        name, pdf = direct_certificate(by=request.user, enrolment=enrolment)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response


class AssessmentInSerializer(serializers.Serializer):
    scores = serializers.DictField(child=serializers.IntegerField(min_value=1, max_value=5))
    recommendation = serializers.ChoiceField(choices=["approve", "reject", "revise"])
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=max_length(Assessment, "reasons")
    )
    site_visit_on = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(
        required=False, allow_blank=True, max_length=max_length(Assessment, "notes")
    )


class AssessmentOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    scores = serializers.SerializerMethodField()
    recommendation = serializers.CharField()
    comment = serializers.CharField(source="reasons")
    weighted_score = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True)
    passes = serializers.BooleanField()
    complete = serializers.BooleanField()
    assessor = serializers.CharField(source="assessor.username")
    site_visit_on = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()
    is_current = serializers.BooleanField()

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "integer"}})
    def get_scores(self, obj):
        return {s.criterion.criterion: s.score for s in obj.scores.all()}


def assessment_data(assessment):
    return AssessmentOutSerializer(assessment).data


class AssessmentView(NoAuditor, APIView):
    @extend_schema(responses=AssessmentOutSerializer)
    def get(self, request, pk):
        application = get_application(request.user, pk)
        assessment = selectors.current_assessment(application)
        if assessment is None:
            raise NotVisible()
        return Response(assessment_data(assessment))

    @extend_schema(request=AssessmentInSerializer, responses={201: AssessmentOutSerializer})
    def post(self, request, pk):
        application = get_application(request.user, pk)
        data = AssessmentInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        services.record_assessment(
            by=request.user,
            application=application,
            scores=dict(values["scores"]),
            recommendation=values["recommendation"],
            reasons=values.get("comment", ""),
            site_visit_on=values.get("site_visit_on"),
            notes=values.get("notes", ""),
        )
        return Response(
            assessment_data(selectors.current_assessment(application)), status=status.HTTP_201_CREATED
        )


class VisitSerializer(serializers.ModelSerializer):
    jobs = serializers.IntegerField(read_only=True)
    window_opens = serializers.DateField(
        read_only=True,
        help_text="The first day the visit can be recorded (VISIT_EARLY_MARGIN_DAYS before due_on).",
    )

    class Meta:
        model = MonitoringVisit
        fields = [
            "id",
            "application",
            "months",
            "due_on",
            "window_opens",
            "visited_on",
            "closed_on",
            "operating",
            "equipment_in_use",
            "monthly_revenue",
            "jobs",
            "jobs_owner",
            "jobs_family",
            "jobs_employees",
            "notes",
            "updated_at",
        ]
        read_only_fields = fields


VisitChangesQuery = changes_query(["due_on", "updated_at", "id"], name="VisitChangesQuery")


class VisitList(NoAuditor, ListAPIView):
    serializer_class = VisitSerializer

    @extend_schema(parameters=[VisitChangesQuery])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = VisitChangesQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        application = get_application(self.request.user, self.kwargs["pk"])
        return apply_changes(application.visits.order_by("due_on", "id"), query.validated_data)


class DueVisitSerializer(VisitSerializer):
    business_name = serializers.CharField(source="application.business_name", read_only=True)
    centre = serializers.IntegerField(source="application.centre_id", read_only=True)
    assigned_officer = serializers.IntegerField(
        source="application.assigned_officer_id", read_only=True, allow_null=True
    )
    overdue = serializers.SerializerMethodField()

    class Meta(VisitSerializer.Meta):
        fields = [
            "id",
            "application",
            "business_name",
            "centre",
            "assigned_officer",
            "months",
            "due_on",
            "window_opens",
            "overdue",
            "updated_at",
        ]

    def get_overdue(self, visit) -> bool:
        return visit.due_on < self.context["today"]


class VisitsDueQuery(serializers.Serializer):
    within_days = serializers.IntegerField(
        min_value=0,
        max_value=366,
        required=False,
        default=28,
        help_text="Due up to this many days ahead (28).",
    )
    centre = serializers.IntegerField(required=False, help_text="Only this centre's visits.")
    mine = serializers.BooleanField(required=False, default=False, help_text="Only the caller's own cases.")


VisitsDueChangesQuery = changes_query(
    ["due_on", "updated_at", "id"], name="VisitsDueChangesQuery", base=VisitsDueQuery
)


class VisitsDue(NoAuditor, ListAPIView):
    """Visits not yet made, overdue first, across every application the caller may open:
    a field app's list for the coming weeks."""

    serializer_class = DueVisitSerializer

    @extend_schema(parameters=[VisitsDueChangesQuery])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = VisitsDueChangesQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        visits = selectors.due_visits(self.request.user, within_days=values["within_days"])
        if "centre" in values:
            visits = visits.filter(application__centre_id=values["centre"])
        if values["mine"]:
            visits = visits.filter(application__assigned_officer=self.request.user)
        return apply_changes(visits, values)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "today": timezone.localdate()}


JOBS_SCHEMA = {
    "oneOf": [
        {"type": "integer", "minimum": 0, "maximum": 1000, "description": "the owner's job(s) only"},
        {
            "type": "object",
            "properties": {
                name: {"type": "integer", "minimum": 0, "maximum": 1000}
                for name in ("owner", "family", "employees")
            },
            "additionalProperties": False,
        },
    ],
    "description": 'Jobs the business gives: an integer, or {"owner", "family", "employees"}.',
}


@extend_schema_field(JOBS_SCHEMA)
class JobsField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        "type": "string",
        "pattern": (
            r'^[ \t\n\r]*(?:\d{1,4}|\{[ \t\n\r]*(?:"(?:owner|family|employees)"[ \t\n\r]*:[ \t\n\r]*\d{1,4}[ \t\n\r]*'
            r'(?:,[ \t\n\r]*"(?:owner|family|employees)"[ \t\n\r]*:[ \t\n\r]*\d{1,4}[ \t\n\r]*)*)?\})[ \t\n\r]*$'
        ),
        "description": 'JSON text: an integer, or {"owner", "family", "employees"}.',
    }
)
class JobsTextField(serializers.JSONField):
    pass


class VisitRecordSerializer(serializers.Serializer):
    """A visit as JSON (no photos)."""

    visited_on = serializers.DateField()
    operating = serializers.BooleanField()
    equipment_in_use = serializers.BooleanField()
    monthly_revenue = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    jobs = JobsField(required=False)
    notes = serializers.CharField(
        required=False, allow_blank=True, max_length=max_length(MonitoringVisit, "notes")
    )

    def validate_jobs(self, value):
        # A multipart form (with photos) carries JSON as text.
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise serializers.ValidationError(
                    'An integer, or {"owner", "family", "employees"}.'
                ) from None
        return value


class VisitRecordWithPhotosSerializer(VisitRecordSerializer):
    """The same visit as multipart, with its photos."""

    jobs = JobsTextField(required=False)
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        max_length=MAX_VISIT_PHOTOS,
        help_text="Photos of the business, each stored as a document of kind photo.",
    )


class VisitRecord(NoAuditor, APIView):
    parser_classes = parsers.JSON_OR_UPLOAD_BODIES

    @extend_schema(
        request={
            "application/json": VisitRecordSerializer,
            "multipart/form-data": VisitRecordWithPhotosSerializer,
        },
        responses=VisitSerializer,
    )
    def post(self, request, pk):
        visit = selectors.visits_for(request.user).filter(pk=pk).first()
        if visit is None:
            raise NotVisible()
        services.check_visit_request_size(request.META.get("CONTENT_LENGTH"))
        data = VisitRecordWithPhotosSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        visit = services.record_visit(
            by=request.user,
            visit=visit,
            visited_on=values["visited_on"],
            operating=values["operating"],
            equipment_in_use=values["equipment_in_use"],
            monthly_revenue=values.get("monthly_revenue"),
            jobs=values.get("jobs"),
            notes=values.get("notes", ""),
            photos=values.get("photos", []),
        )
        return Response(VisitSerializer(visit).data)


class Certificate(NoAuditor, APIView):
    """The completion certificate (PDF) once the business training is completed."""

    @extend_schema(responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY)})
    def get(self, request, pk):
        application = get_application(request.user, pk)
        name, pdf = completion_certificate(by=request.user, application=application)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response


class ApprovalSerializer(serializers.Serializer):
    """One row of the programme manager's approvals queue (the page's facts)."""

    id = serializers.IntegerField()
    business_name = serializers.CharField()
    applicant_name = serializers.CharField(source="applicant.full_name")
    programme = serializers.IntegerField(source="programme_id")
    programme_name = serializers.CharField(source="programme.name")
    centre = serializers.IntegerField(source="centre_id")
    currency = serializers.CharField(source="programme.currency")
    requested_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    budget_left = serializers.DecimalField(max_digits=14, decimal_places=2)
    recommendation = serializers.CharField()
    weighted_score = serializers.DecimalField(max_digits=4, decimal_places=2, allow_null=True)
    passes = serializers.SerializerMethodField()
    sessions = serializers.IntegerField(source="sessions_count")
    sessions_attended = serializers.IntegerField(source="present_count")
    own_assessment = serializers.SerializerMethodField()
    open_duplicate = serializers.BooleanField(
        help_text="A possible duplicate of the applicant is still to decide: approval is refused until it is."
    )

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_passes(self, application):
        return bool(application.assessment_complete) and passes_mark(
            application.weighted_score, application.programme.pass_mark
        )

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_own_assessment(self, application):
        return application.assessor_id == self.context["request"].user.pk


class ApprovalsQueue(ListAPIView):
    """The approvals queue page's twin (`assessments.selectors.approvals_ready`)."""

    serializer_class = ApprovalSerializer

    def get_queryset(self):
        if not roles.has_role(self.request.user, roles.PROGRAMME_MANAGER):
            raise NotAllowed("The approvals queue is the programme manager's.")
        return selectors.approvals_ready(self.request.user)
