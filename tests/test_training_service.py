"""Training as a service of its own: people enrolled without a grant application,
participants counted without names, business training and network meetings, and their
figures apart from grant-related training."""

import datetime
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from assessments import selectors, services
from assessments.certificates import NEUTRAL_TITLE, direct_certificate
from assessments.models import Enrolment, SessionHeadcount, TrainingMeeting
from assessments.selectors import active_enrolment, attendance_sheet
from core.errors import Conflict, NotAllowed, NotVisible, ServiceError
from grants.models import AuditEvent
from grants.workflow import TRAINING_COMPLETED
from reports import donor
from reports import figures as reports

from .conftest import verified_login
from .factories import ApplicantFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def weeks_ago(n):
    return TODAY - datetime.timedelta(days=7 * n)


@pytest.fixture
def cohort(world):
    return services.create_cohort(
        by=world.officer,
        programme=world.programme,
        centre=world.centre,
        title="Vocational training for former inmates",
        session_dates=[weeks_ago(n) for n in (3, 2, 1)],
    )


@pytest.fixture
def open_programme(world):
    world.programme.anonymous_training = True
    world.programme.save(update_fields=["anonymous_training"])
    return world.programme


def person(world, **kwargs):
    return ApplicantFactory(centre=world.centre, **kwargs)


def attend_all(world, cohort, **who):
    for session in cohort.sessions.all():
        services.record_attendance(by=world.officer, session=session, present=True, **who)


# ---- enrolment without an application ----------------------------------------------------


class TestEnrolWithoutApplication:
    def test_a_registered_person_is_enrolled_and_it_is_audited(self, world, cohort):
        someone = person(world)
        enrolment = services.enrol_applicant(by=world.officer, cohort=cohort, applicant=someone)
        assert (enrolment.application, enrolment.applicant, enrolment.is_direct) == (None, someone, True)
        event = AuditEvent.objects.get(action="enrolled", applicant=someone)
        assert event.actor == world.officer and event.data["without_application"] is True
        # Twice is the same enrolment.
        assert services.enrol_applicant(by=world.officer, cohort=cohort, applicant=someone) == enrolment
        assert Enrolment.objects.filter(applicant=someone).count() == 1

    def test_attendance_completes_it_and_the_sheet_lists_the_person(self, world, cohort):
        someone = person(world, last_name="Aaronović")
        enrolment = services.enrol_applicant(by=world.officer, cohort=cohort, applicant=someone)
        attend_all(world, cohort, applicant=someone)
        _sessions, rows = attendance_sheet(cohort)
        row = next(r for r in rows if r["enrolment"].pk == enrolment.pk)
        assert (row["application"], row["person"], row["completed"]) == (None, someone, True)
        assert AuditEvent.objects.filter(action="attendance_recorded", applicant=someone).count() == 3

    def test_the_grant_path_still_guards_approval_beside_it(self, world, cohort):
        application = world.application(state="submitted")
        services.enrol(by=world.officer, cohort=cohort, application=application)
        services.enrol_applicant(by=world.officer, cohort=cohort, applicant=person(world))
        assert not TRAINING_COMPLETED(application)
        attend_all(world, cohort, application=application)
        application = type(application).objects.get(pk=application.pk)
        assert active_enrolment(application).application == application
        assert TRAINING_COMPLETED(application)

    def test_an_enrolment_is_an_application_or_a_person_never_both(self, world, cohort):
        from django.db import IntegrityError, transaction

        application = world.application(state="submitted")
        with pytest.raises(IntegrityError), transaction.atomic():
            Enrolment.objects.create(cohort=cohort, application=application, applicant=application.applicant)
        with pytest.raises(IntegrityError), transaction.atomic():
            Enrolment.objects.create(cohort=cohort)

    def test_who_may_enrol(self, world, cohort):
        someone = person(world)
        with pytest.raises(NotVisible):
            services.enrol_applicant(by=world.officer2, cohort=cohort, applicant=someone)
        with pytest.raises(NotAllowed):
            services.enrol_applicant(by=world.manager, cohort=cohort, applicant=someone)
        elsewhere = ApplicantFactory(centre=world.other_centre)
        with pytest.raises(NotVisible):
            services.enrol_applicant(by=world.officer, cohort=cohort, applicant=elsewhere)
        assert not Enrolment.objects.filter(application__isnull=True).exists()

    def test_the_persons_own_data_export_lists_it(self, world, cohort):
        from privacy.subjects import applicant_data

        someone = person(world)
        services.enrol_applicant(by=world.officer, cohort=cohort, applicant=someone)
        attend_all(world, cohort, applicant=someone)
        (training,) = applicant_data(someone)["training"]
        assert training["course"] == cohort.title and len(training["sessions"]) == 3

    def test_a_mark_for_someone_not_enrolled_is_refused(self, world, cohort):
        with pytest.raises(ServiceError) as refused:
            services.record_attendance(
                by=world.officer, session=cohort.sessions.first(), present=True, applicant=person(world)
            )
        assert "applicant" in refused.value.details


class TestTheWebPages:
    def test_the_officer_enrols_a_person_and_marks_attendance(self, world, client, cohort):
        someone = person(world, first_name="Vesna", last_name="Ilić")
        verified_login(client, world.officer)
        page = client.get(reverse("cohort-detail", args=[cohort.pk])).content.decode()
        assert "without a grant application" in page and "Vesna Ilić" in page
        response = client.post(reverse("cohort-enrol-person", args=[cohort.pk]), {"applicant": someone.pk})
        assert response.status_code == 302
        enrolment = Enrolment.objects.get(applicant=someone)
        sessions = list(cohort.sessions.all())
        marks = {f"present-{enrolment.pk}-{s.pk}": "on" for s in sessions}
        assert client.post(reverse("cohort-attendance", args=[cohort.pk]), marks).status_code == 302
        assert enrolment.attendance.filter(present=True).count() == len(sessions)
        page = client.get(reverse("cohort-detail", args=[cohort.pk])).content.decode()
        assert reverse("enrolment-certificate", args=[enrolment.pk]) in page

    @pytest.mark.parametrize(
        ("who", "status"), [("manager", 403), ("finance", 403), ("auditor", 403), ("applicant", 403)]
    )
    def test_only_officers_enrol(self, world, client, cohort, who, status):
        someone = person(world)
        verified_login(client, getattr(world, who))
        response = client.post(reverse("cohort-enrol-person", args=[cohort.pk]), {"applicant": someone.pk})
        assert response.status_code == status
        assert not Enrolment.objects.filter(applicant=someone).exists()

    def test_an_officer_of_another_centre_gets_404(self, world, client, cohort):
        verified_login(client, world.officer2)
        response = client.post(
            reverse("cohort-enrol-person", args=[cohort.pk]), {"applicant": person(world).pk}
        )
        assert response.status_code == 404

    def test_the_cohort_page_queries_do_not_grow_with_people(
        self, world, client, cohort, django_assert_max_num_queries
    ):
        verified_login(client, world.officer)
        for _n in range(3):
            services.enrol_applicant(by=world.officer, cohort=cohort, applicant=person(world))
        client.get(reverse("cohort-detail", args=[cohort.pk]))
        with django_assert_max_num_queries(30) as few:
            client.get(reverse("cohort-detail", args=[cohort.pk]))
        for _n in range(12):
            services.enrol_applicant(by=world.officer, cohort=cohort, applicant=person(world))
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get(reverse("cohort-detail", args=[cohort.pk])).status_code == 200


# ---- the neutral certificate -------------------------------------------------------------


class TestCertificate:
    def test_it_is_neutral_and_audited(self, world, cohort):
        someone = person(world, first_name="Vesna", last_name="Ilić", language="en")
        enrolment = services.enrol_applicant(by=world.officer, cohort=cohort, applicant=someone)
        attend_all(world, cohort, applicant=someone)
        enrolment = selectors.direct_enrolment(world.officer, enrolment.pk)
        _name, pdf = direct_certificate(by=world.officer, enrolment=enrolment)
        text = " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
        assert "Vesna Ilić" in " ".join(text.split()) or "Vesna" in text
        assert NEUTRAL_TITLE.split()[0] in text
        for secret in ("inmate", "prison", world.centre.name, world.programme.name):
            assert secret.lower() not in text.lower()
        event = AuditEvent.objects.get(action="certificate_issued", applicant=someone)
        assert event.data == {"enrolment": enrolment.pk, "without_application": True}

    def test_not_before_completion_and_not_for_other_centres(self, world, cohort, client, api):
        someone = person(world)
        enrolment = services.enrol_applicant(by=world.officer, cohort=cohort, applicant=someone)
        with pytest.raises(ServiceError):
            direct_certificate(
                by=world.officer, enrolment=selectors.direct_enrolment(world.officer, enrolment.pk)
            )
        assert selectors.direct_enrolment(world.officer2, enrolment.pk) is None
        assert api(world.officer2).get(f"/api/v1/enrolments/{enrolment.pk}/certificate/").status_code == 404
        assert api(world.finance).get(f"/api/v1/enrolments/{enrolment.pk}/certificate/").status_code in (
            403,
            404,
        )


# ---- participants counted without names -------------------------------------------------


class TestHeadcounts:
    def test_refused_where_the_programme_does_not_allow_it(self, world, cohort):
        with pytest.raises(Conflict):
            services.record_headcount(
                by=world.officer, session=cohort.sessions.first(), counts={("female", ""): 4}
            )
        assert not SessionHeadcount.objects.exists()

    def test_counted_by_sex_and_age_band_and_replaced_with_an_audit(self, world, cohort, open_programme):
        session = cohort.sessions.first()
        services.record_headcount(
            by=world.officer, session=session, counts={("female", "25-34"): 4, ("male", ""): 3}
        )
        rows = services.record_headcount(by=world.officer, session=session, counts={("female", "25-34"): 5})
        assert [(r.sex, r.age_band, r.count) for r in SessionHeadcount.objects.all()] == [
            ("female", "25-34", 5)
        ]
        assert len(rows) == 1
        event = AuditEvent.objects.filter(action="headcount_recorded").latest("pk")
        assert event.data["before"] == {"total": 7} and event.data["after"] == {"total": 5}

    def test_bad_values_change_nothing(self, world, cohort, open_programme):
        session = cohort.sessions.first()
        for counts in ({("alien", ""): 1}, {("", "7-9"): 1}, {("", ""): -1}, {("", ""): 5000}):
            with pytest.raises(ServiceError):
                services.record_headcount(by=world.officer, session=session, counts=counts)
        assert not SessionHeadcount.objects.exists()

    def test_through_the_api(self, world, api, cohort, open_programme):
        session = cohort.sessions.first()
        url = f"/api/v1/cohorts/{cohort.pk}/headcounts/"
        body = {"session": session.pk, "counts": [{"sex": "female", "count": 6}, {"sex": "male", "count": 2}]}
        response = api(world.officer).post(url, body, format="json")
        assert response.status_code == 201 and response.json()["total"] == 8
        rows = api(world.officer).get(url).json()
        assert rows[0]["total"] == 8 and {r["sex"] for r in rows[0]["counts"]} == {"female", "male"}
        assert (
            api(world.officer)
            .post(url, {"session": session.pk, "counts": [{"sex": "x", "count": 1}]}, format="json")
            .status_code
            == 400
        )
        assert api(world.officer2).get(url).status_code == 404
        assert api(world.auditor).get(url).status_code == 403

    def test_the_web_form_counts_by_sex(self, world, client, cohort, open_programme):
        verified_login(client, world.officer)
        session = cohort.sessions.first()
        response = client.post(
            reverse("cohort-headcount", args=[cohort.pk]),
            {
                "session": session.pk,
                "count_female_unknown": "4",
                "count_male_unknown": "2",
                "count_unknown_unknown": "1",
            },
        )
        assert response.status_code == 302
        assert sum(SessionHeadcount.objects.values_list("count", flat=True)) == 7


# ---- meetings ----------------------------------------------------------------------------


class TestMeetings:
    def test_recorded_with_an_audit(self, world):
        meeting = services.record_meeting(
            by=world.officer,
            programme=world.programme,
            centre=world.centre,
            held_on=weeks_ago(1),
            kind="network",
            participants=14,
        )
        assert AuditEvent.objects.get(action="meeting_recorded").data["meeting"] == meeting.pk

    def test_bad_values_are_refused(self, world):
        for kind, held_on, participants in (
            ("party", weeks_ago(1), 3),
            ("network", TODAY + datetime.timedelta(days=1), 3),
            ("network", weeks_ago(1), -2),
        ):
            with pytest.raises(ServiceError):
                services.record_meeting(
                    by=world.officer,
                    programme=world.programme,
                    centre=world.centre,
                    held_on=held_on,
                    kind=kind,
                    participants=participants,
                )
        with pytest.raises(NotVisible):
            services.record_meeting(
                by=world.officer2,
                programme=world.programme,
                centre=world.centre,
                held_on=weeks_ago(1),
                kind="network",
                participants=3,
            )
        assert not TrainingMeeting.objects.exists()

    def test_the_api_records_and_lists_them_by_centre(self, world, api):
        body = {
            "programme": world.programme.pk,
            "centre": world.centre.pk,
            "held_on": weeks_ago(2).isoformat(),
            "kind": "business_training",
            "participants": 20,
        }
        response = api(world.officer).post("/api/v1/meetings/", body, format="json")
        assert response.status_code == 201 and response.json()["participants"] == 20
        assert (
            api(world.officer)
            .post("/api/v1/meetings/", {**body, "centre": world.other_centre.pk}, format="json")
            .status_code
            == 400
        )
        assert (
            api(world.officer).post("/api/v1/meetings/", {**body, "kind": "x"}, format="json").status_code
            == 400
        )
        assert api(world.officer).get("/api/v1/meetings/").json()["count"] == 1
        assert api(world.manager).get("/api/v1/meetings/").json()["count"] == 1
        assert api(world.officer2).get("/api/v1/meetings/").json()["count"] == 0
        assert api(world.auditor).get("/api/v1/meetings/").status_code == 403

    @pytest.mark.parametrize(
        ("who", "status"),
        [("officer", 200), ("manager", 200), ("finance", 403), ("auditor", 403), ("applicant", 403)],
    )
    def test_the_list_page_by_role(self, world, client, who, status):
        verified_login(client, getattr(world, who))
        assert client.get(reverse("meeting-list")).status_code == status

    def test_the_officer_records_one_on_the_web(self, world, client):
        verified_login(client, world.officer)
        assert client.get(reverse("meeting-new")).status_code == 200
        response = client.post(
            reverse("meeting-new"),
            {
                "programme": world.programme.pk,
                "centre": world.centre.pk,
                "held_on": weeks_ago(1).isoformat(),
                "kind": "network",
                "participants": "9",
            },
        )
        assert response.status_code == 302 and TrainingMeeting.objects.get().participants == 9
        response = client.post(reverse("meeting-new"), {"programme": world.programme.pk})
        assert response.status_code == 400 and TrainingMeeting.objects.count() == 1

    def test_lists_keep_their_queries_whatever_the_rows(self, world, api, django_assert_max_num_queries):
        def add(n):
            for _i in range(n):
                services.record_meeting(
                    by=world.officer,
                    programme=world.programme,
                    centre=world.centre,
                    held_on=weeks_ago(1),
                    kind="network",
                    participants=3,
                )

        add(2)
        client = api(world.manager)
        with django_assert_max_num_queries(12) as few:
            client.get("/api/v1/meetings/")
        add(20)
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert client.get("/api/v1/meetings/").json()["count"] == 22


# ---- figures apart from grant-related training --------------------------------------------


@pytest.fixture
def trained(world, cohort, open_programme):
    """One grant applicant and six people without an application complete the course;
    sessions counted 10 and 12 without names; two meetings."""
    application = world.application(state="submitted")
    services.enrol(by=world.officer, cohort=cohort, application=application)
    attend_all(world, cohort, application=application)
    for _n in range(6):
        someone = person(world, is_former_inmate=True)
        services.enrol_applicant(by=world.officer, cohort=cohort, applicant=someone)
        attend_all(world, cohort, applicant=someone)
    first, second, _third = cohort.sessions.order_by("date")
    services.record_headcount(by=world.officer, session=first, counts={("female", ""): 6, ("male", ""): 4})
    services.record_headcount(by=world.officer, session=second, counts={("female", ""): 7, ("male", ""): 5})
    for kind, participants in (("business_training", 15), ("network", 30)):
        services.record_meeting(
            by=world.officer,
            programme=world.programme,
            centre=world.centre,
            held_on=weeks_ago(1),
            kind=kind,
            participants=participants,
        )
    return application


class TestFigures:
    def test_people_trained_apart_from_grant_related_training(self, world, trained):
        assert reports.impact_figures(world.manager)["people_trained"] == 1
        figures = reports.training_service_figures(world.manager)
        assert figures == {
            "people_trained": 6,
            "participants_counted": 12,
            "participant_sessions": 22,
            "meetings_held": 2,
            "business_training_meetings": 1,
            "network_meetings": 1,
            "meeting_participants": 45,
            "withheld": [],
        }

    def test_a_target_group_leaves_out_what_has_none(self, world, trained):
        filters = reports.ReportFilters(target_group="former_inmate")
        figures = reports.training_service_figures(world.manager, filters)
        assert figures["people_trained"] == 6
        assert figures["participants_counted"] is None and figures["meetings_held"] is None

    def test_other_centres_and_periods_count_nothing(self, world, trained):
        assert reports.training_service_figures(world.officer2)["meetings_held"] in (0, None)
        later = reports.ReportFilters(date_from=TODAY + datetime.timedelta(days=1))
        figures = reports.training_service_figures(world.manager, later)
        assert (figures["people_trained"], figures["meetings_held"], figures["participants_counted"]) == (
            0,
            0,
            0,
        )

    def test_a_small_count_is_withheld_from_roles_without_personal_data(self, world, cohort):
        someone = person(world)
        services.enrol_applicant(by=world.officer, cohort=cohort, applicant=someone)
        attend_all(world, cohort, applicant=someone)
        assert reports.training_service_figures(world.manager)["people_trained"] == 1
        hidden = reports.training_service_figures(world.auditor)
        assert hidden["people_trained"] is None and hidden["withheld"] == ["people_trained"]

    def test_the_api_report_and_the_dashboard_show_them(self, world, api, client, trained):
        body = api(world.manager).get("/api/v1/reports/impact/").json()
        assert body["people_trained"] == 1 and body["training_service"]["people_trained"] == 6
        assert body["training_service"]["meetings_held"] == 2
        verified_login(client, world.manager)
        page = client.get(reverse("dashboard")).content.decode()
        assert (
            "Training without a grant" in page
            and "registered people trained without a grant application" in page
        )

    def test_the_donor_report_shows_them(self, world, trained):
        content = donor.build(world.manager, world.programme, weeks_ago(10), TODAY)
        rows = dict(donor.training_service_rows(content))
        assert rows["Registered people trained without a grant application"] == 6
        assert rows["Network meetings"] == 1 and rows["Participants in the meetings"] == 45
        assert donor.xlsx(content, "en")[:2] == b"PK"
