"""The field officer's workspace through the web pages: the inbox, registering a person
(possible duplicates before saving), applying on their behalf, the application page
with its steps and the guard's message, the sensitive section, training courses with
the attendance sheet, the assessment and the visit forms."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from applicants.models import Applicant, DuplicateFlag
from assessments.models import Assessment, Attendance, Enrolment, TrainingCohort
from grants.models import AuditEvent, GrantApplication

from .conftest import verified_login
from .factories import (
    ApplicantFactory,
    ApplicantSensitiveFactory,
    ApplicationFactory,
    DocumentFactory,
    ProgrammeFactory,
    TrainingCohortFactory,
    audit_actions,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(client, world):
    return verified_login(client, world.officer)


def today():
    return timezone.localdate()


class TestInbox:
    def test_it_lists_the_centres_applications_only(self, officer, world):
        world.application(business_name="Bakery in Niš")
        world.application(
            applicant=world.person2, programme=world.other_programme, business_name="Prizren shop"
        )

        body = officer.get(reverse("inbox")).content.decode()

        assert "Bakery in Niš" in body
        assert "Prizren shop" not in body

    def test_it_filters_by_state_programme_and_search(self, officer, world):
        world.application(business_name="Draft carpentry")
        world.application(business_name="Submitted bakery", submitted=True)

        by_state = officer.get(reverse("inbox"), {"state": "submitted"}).content.decode()
        by_search = officer.get(reverse("inbox"), {"q": "carpent"}).content.decode()
        by_name = officer.get(reverse("inbox"), {"q": "Demic"}).content.decode()  # accents folded
        empty = ProgrammeFactory(country=world.serbia)
        by_programme = officer.get(reverse("inbox"), {"programme": empty.pk}).content.decode()

        assert "Submitted bakery" in by_state and "Draft carpentry" not in by_state
        assert "Draft carpentry" in by_search and "Submitted bakery" not in by_search
        assert "Draft carpentry" in by_name and "Submitted bakery" in by_name
        assert "No applications match." in by_programme

    def test_it_filters_overdue_visits(self, officer, world):
        late = world.application(
            business_name="Late visit",
            follow_up=True,
            state_facts__delivered_on=today() - datetime.timedelta(days=200),
        )
        world.application(business_name="On time", follow_up=True)

        body = officer.get(reverse("inbox"), {"overdue": "on"}).content.decode()

        assert "Late visit" in body
        assert "On time" not in body
        assert late.visits.filter(visited_on__isnull=True, due_on__lt=today()).exists()

    def test_a_discontinued_grants_unmade_visits_are_not_overdue(self, officer, world):
        closed = world.application(
            business_name="Closed shop",
            follow_up=True,
            state_facts__delivered_on=today() - datetime.timedelta(days=200),
        )
        GrantApplication.objects.filter(pk=closed.pk).update(state="discontinued")

        listed = officer.get(reverse("inbox")).content.decode()
        filtered = officer.get(reverse("inbox"), {"overdue": "on"}).content.decode()

        assert "Closed shop" in listed and "visit overdue" not in listed
        assert "Closed shop" not in filtered

    def test_the_visits_due_head_the_first_page_only(self, officer, world):
        world.application(
            business_name="Late visit",
            follow_up=True,
            state_facts__delivered_on=today() - datetime.timedelta(days=200),
        )
        world.application(
            applicant=world.person2,
            programme=world.other_programme,
            assigned_officer=world.officer2,
            business_name="Prizren bakery",
            follow_up=True,
            state_facts__delivered_on=today() - datetime.timedelta(days=200),
        )
        ApplicationFactory.create_batch(55, applicant=world.person, programme=world.programme)

        first = officer.get(reverse("inbox"))
        second = officer.get(reverse("inbox"), {"page": 2})

        due = list(first.context["due_visits"])
        # Only this centre's visits (not the Prizren bakery's), the late one among them.
        assert {v.application.business_name for v in due} == {"Late visit"}
        assert {v.application.applicant.full_name for v in due} == {"Marko Demić"}
        assert all(v.due_on < first.context["today"] for v in due)  # shown as overdue
        assert 'id="due-title"' in first.content.decode()
        assert list(second.context["due_visits"]) == []
        assert 'id="due-title"' not in second.content.decode()

    def test_each_row_names_its_centre_programme_and_currency(self, client, world):
        world.application(business_name="Niš bakery")
        world.application(
            applicant=world.person2, programme=world.other_programme, business_name="Prizren bakery"
        )
        verified_login(client, world.manager)  # two centres: the centre is shown

        body = client.get(reverse("inbox")).content.decode()

        for programme, centre in (
            (world.programme, world.centre),
            (world.other_programme, world.other_centre),
        ):
            assert programme.name in body and centre.name in body
            assert f" {programme.currency}</td>" in body

    def test_bad_filter_values_are_ignored_not_a_500(self, officer, world):
        world.application(business_name="Still listed")
        response = officer.get(reverse("inbox"), {"programme": "x'; drop", "state": "nonsense", "page": "-3"})
        assert response.status_code == 200

    def test_pages_of_50_with_a_bounded_number_of_queries(
        self, officer, world, django_assert_max_num_queries
    ):
        ApplicationFactory.create_batch(
            120, applicant=world.person, programme=world.programme, items=[("Oven", 1, "900.00")]
        )
        officer.get(reverse("inbox"))  # the session notes its first request
        # Eight statements (session, user, two-factor device, permissions, filter
        # choices, count, rows, visits due) and the request's savepoint and release;
        # the visits due head the first page only.
        with django_assert_max_num_queries(10) as first:
            page1 = officer.get(reverse("inbox"))
        with django_assert_max_num_queries(9) as later:
            page3 = officer.get(reverse("inbox"), {"page": 3})

        assert page1.content.decode().count('<td class="row-id">') == 50
        assert page3.content.decode().count('<td class="row-id">') == 20
        assert "Page 3 of 3" in page3.content.decode()
        assert len(later.captured_queries) == len(first.captured_queries) - 1


class TestRegister:
    def data(self, world, **overrides):
        values = {
            "first_name": "Jelena",
            "last_name": "Nikolić",
            "date_of_birth": "1985-07-09",
            "phone": "",
            "national_id": "",
            "email": "",
            "municipality": "Niš",
            "centre": str(world.centre.pk),
            "target_groups": ["former_inmate"],
            "household_size": "3",
            "dependants": "1",
            "language": "sr-latn",
            "consent_given": "on",
            "consent_prison": "on",
            "referral": "other",
            "referral_other": "Correctional Institution Niš",
            "release_month": "2025-04",
        }
        values.update(overrides)
        return values

    def test_it_registers_and_goes_on_to_the_application(self, officer, world):
        response = officer.post(reverse("applicant-register"), self.data(world))

        person = Applicant.objects.get(last_name="Nikolić")
        assert response.status_code == 302
        assert response.url == f"{reverse('application-new')}?applicant={person.pk}"
        assert (person.created_by, person.is_former_inmate) == (world.officer, True)
        assert person.sensitive.referral_institution == "Correctional Institution Niš"
        assert person.sensitive.release_month == datetime.date(2025, 4, 1)
        assert sorted(person.consents.values_list("purpose", flat=True)) == ["general", "prison"]

    def test_possible_duplicates_are_shown_before_saving(self, officer, world):
        data = self.data(world, first_name="Marko", last_name="Demic", date_of_birth="1990-03-02")

        response = officer.post(reverse("applicant-register"), data)

        body = response.content.decode()
        assert response.status_code == 200
        assert "This person may already be registered" in body
        assert world.person.full_name in body
        assert "same name and date of birth" in body
        assert f'name="confirmed" value="{world.person.pk}"' in body
        assert not Applicant.objects.filter(last_name="Demic").exists()

    def test_confirming_registers_and_flags_the_match(self, officer, world):
        data = self.data(world, first_name="Marko", last_name="Demic", date_of_birth="1990-03-02")
        data["confirmed"] = [str(world.person.pk)]

        response = officer.post(reverse("applicant-register"), data)

        assert response.status_code == 302
        person = Applicant.objects.get(last_name="Demic")
        flag = DuplicateFlag.objects.get(applicant=person)
        assert (flag.other, flag.decision) == (world.person, "pending")

    def test_a_match_at_another_centre_is_not_named(self, officer, world):
        data = self.data(world, first_name="Arta", last_name="Demaj", date_of_birth="1990-03-02")
        response = officer.post(reverse("applicant-register"), data)
        body = response.content.decode()
        assert "A possible match exists in another centre: ask your programme manager." in body
        # The page is told only that a match exists elsewhere: no person of another centre.
        assert response.context["elsewhere"]
        assert list(response.context["duplicates"]) == []
        other = Applicant.objects.get(first_name="Arta", last_name="Demaj")
        # Neither the centre, nor the reasons, nor the id (not even in the hidden inputs).
        assert other.centre.name not in body and "same name" not in body
        # (value="2" alone also answers the disability questions: the confirmation inputs say whom.)
        assert f'name="confirmed" value="{other.pk}"' not in body and f"applicant={other.pk}" not in body
        assert 'name="confirmed" value="elsewhere"' in body

    def test_a_refusal_names_the_field_and_keeps_the_typing(self, officer, world):
        response = officer.post(reverse("applicant-register"), self.data(world, phone="12"))
        body = response.content.decode()
        assert response.status_code == 400
        assert 'id="id_phone_error"' in body
        assert 'value="Nikolić"' in body
        assert not Applicant.objects.filter(last_name="Nikolić").exists()

    def test_only_my_centres_are_offered(self, officer, world):
        response = officer.post(
            reverse("applicant-register"), self.data(world, centre=str(world.other_centre.pk))
        )
        assert response.status_code == 400
        assert not Applicant.objects.filter(last_name="Nikolić").exists()


class TestApplyOnBehalf:
    def test_it_creates_the_draft_for_the_person_and_records_so(self, officer, world):
        url = reverse("application-new")
        choose = officer.get(url, {"applicant": world.person.pk})
        assert world.programme.name in choose.content.decode()

        response = officer.post(
            url,
            {
                "applicant": world.person.pk,
                "programme": world.programme.pk,
                "business_name": "Marko's bakery",
                "sector": "food",
                "activity": "Bread",
                "market": "Village",
                "experience": "",
                "expected_monthly_revenue": "900",
                "expected_monthly_costs": "400",
                "jobs_planned": "2",
                "items-TOTAL_FORMS": "1",
                "items-INITIAL_FORMS": "0",
                "items-0-description": "Bakery oven",
                "items-0-quantity": "1",
                "items-0-unit_cost": "1450",
            },
        )

        application = GrantApplication.objects.get(business_name="Marko's bakery")
        assert response.status_code == 302
        assert (application.applicant, application.assigned_officer) == (world.person, world.officer)
        event = AuditEvent.objects.get(application=application, action="create")
        assert (event.actor, event.on_behalf_of) == (world.officer, world.person)

    def test_a_person_of_another_centre_is_not_found(self, officer, world):
        response = officer.get(reverse("application-new"), {"applicant": world.person2.pk})
        assert response.status_code == 404

    def test_without_a_person_it_sends_to_the_list_of_people(self, officer):
        response = officer.get(reverse("application-new"))
        assert response.url == reverse("applicant-list")


class TestApplicationPage:
    def test_it_shows_every_section_and_the_diagram_with_the_current_state(self, officer, world):
        application = world.application(submitted=True)
        body = officer.get(reverse("application-detail", args=[application.pk])).content.decode()

        for title in (
            "Business plan",
            "Equipment",
            "Documents",
            "Business training",
            "Assessment",
            "Deliveries",
            "Monitoring visits",
            "History",
        ):
            assert f">{title}</h2>" in body
        assert 'data-state="submitted" aria-current="step"' in body

    def test_only_the_steps_i_may_take_with_the_guards_message(self, officer, world):
        application = world.application(submitted=True)
        body = officer.get(reverse("application-detail", args=[application.pk])).content.decode()

        assert 'value="return_for_changes"' in body
        assert 'value="reject"' in body
        assert 'value="admit_to_training"' not in body  # not enrolled yet: no button ...
        assert "Enrol the applicant in a business-training cohort first." in body  # ... but the reason
        assert 'value="approve"' not in body
        steps = officer.get(reverse("application-detail", args=[application.pk])).context["transitions"]
        assert "approve" not in {row["name"] for row in steps}

    def test_a_return_without_a_comment_is_refused_and_keeps_state(self, officer, world):
        application = world.application(submitted=True)
        response = officer.post(
            reverse("application-step", args=[application.pk]), {"transition": "return_for_changes"}
        )

        assert response.status_code == 400
        assert "Say what the applicant should change." in response.content.decode()
        application.refresh_from_db()
        assert application.state == "submitted"

    def test_a_return_with_a_comment_goes_back_to_draft(self, officer, world, mailoutbox):
        application = world.application(submitted=True)
        officer.post(
            reverse("application-step", args=[application.pk]),
            {"transition": "return_for_changes", "comment": "Add a supplier quote."},
        )

        application.refresh_from_db()
        assert application.state == "draft"
        event = AuditEvent.objects.filter(application=application).latest("id")
        assert (event.action, event.comment, event.actor) == (
            "return_for_changes",
            "Add a supplier quote.",
            world.officer,
        )

    def test_enrol_from_the_page_then_admit(self, officer, world):
        application = world.application(submitted=True)
        cohort = TrainingCohortFactory(programme=world.programme, centre=world.centre, title="Spring course")

        page = officer.get(reverse("application-detail", args=[application.pk])).content.decode()
        assert "Spring course" in page
        officer.post(reverse("application-enrol", args=[application.pk]), {"cohort": cohort.pk})
        officer.post(reverse("application-step", args=[application.pk]), {"transition": "admit_to_training"})

        application.refresh_from_db()
        assert Enrolment.objects.filter(application=application, cohort=cohort, active=True).exists()
        assert application.state == "business_training"
        assert audit_actions(application)[-2:] == ["enrolled", "admit_to_training"]

    def test_another_centres_application_is_not_found(self, officer, world):
        theirs = world.application(applicant=world.person2, programme=world.other_programme)
        assert officer.get(reverse("application-detail", args=[theirs.pk])).status_code == 404
        assert (
            officer.post(
                reverse("application-step", args=[theirs.pk]), {"transition": "reject", "comment": "x"}
            ).status_code
            == 404
        )


class TestSensitiveSection:
    def test_it_is_shown_on_request_and_the_viewing_is_audited(self, officer, world):
        ApplicantSensitiveFactory(applicant=world.person)
        application = world.application()
        url = reverse("application-detail", args=[application.pk])

        closed = officer.get(url).content.decode()
        assert "Show sensitive facts" in closed
        assert "Sremska Mitrovica" not in closed
        assert not AuditEvent.objects.filter(action="sensitive_viewed").exists()

        opened = officer.get(url, {"show": "sensitive"}).content.decode()
        assert "Sremska Mitrovica" in opened
        event = AuditEvent.objects.get(action="sensitive_viewed")
        assert (event.actor, event.applicant) == (world.officer, world.person)

    def test_a_colleague_not_assigned_does_not_see_it(self, client, world):
        ApplicantSensitiveFactory(applicant=world.person)
        application = world.application()
        verified_login(client, world.colleague)

        body = client.get(
            reverse("application-detail", args=[application.pk]), {"show": "sensitive"}
        ).content.decode()

        assert "Sensitive facts" not in body
        assert "Sremska Mitrovica" not in body
        assert not AuditEvent.objects.filter(action="sensitive_viewed").exists()

    def test_a_release_certificate_is_hidden_from_who_may_not_see_it(self, client, world):
        application = world.application()
        certificate = DocumentFactory(
            application=application, kind="release_certificate", original_name="release.pdf"
        )
        verified_login(client, world.colleague)

        body = client.get(reverse("application-detail", args=[application.pk])).content.decode()

        assert "release.pdf" not in body
        assert client.get(reverse("document-download-page", args=[certificate.pk])).status_code == 404


class TestTraining:
    def test_it_creates_a_course_with_its_sessions(self, officer, world):
        response = officer.post(
            reverse("cohort-new"),
            {
                "title": "Start your business",
                "programme": world.programme.pk,
                "centre": world.centre.pk,
                "sessions-TOTAL_FORMS": "3",
                "sessions-INITIAL_FORMS": "0",
                "sessions-0-date": "2026-03-02",
                "sessions-1-date": "2026-03-09",
                "sessions-2-date": "",
            },
        )

        cohort = TrainingCohort.objects.get(title="Start your business")
        assert response.url == reverse("cohort-detail", args=[cohort.pk])
        assert [s.date.isoformat() for s in cohort.sessions.all()] == ["2026-03-02", "2026-03-09"]

    def test_a_course_needs_a_date(self, officer, world):
        response = officer.post(
            reverse("cohort-new"),
            {
                "title": "No dates",
                "programme": world.programme.pk,
                "centre": world.centre.pk,
                "sessions-TOTAL_FORMS": "1",
                "sessions-INITIAL_FORMS": "0",
                "sessions-0-date": "",
            },
        )
        assert response.status_code == 400
        assert "Give the date of at least one session." in response.content.decode()
        assert not TrainingCohort.objects.filter(title="No dates").exists()

    def test_add_a_date_without_javascript(self, officer, world):
        response = officer.post(
            reverse("cohort-new"),
            {
                "title": "Kept",
                "programme": world.programme.pk,
                "centre": world.centre.pk,
                "add_row": "1",
                "sessions-TOTAL_FORMS": "1",
                "sessions-INITIAL_FORMS": "0",
                "sessions-0-date": "2026-03-02",
            },
        )
        body = response.content.decode()
        assert 'value="Kept"' in body
        assert 'name="sessions-1-date"' in body

    def test_the_attendance_sheet_saves_all_marks_in_one_form(
        self, officer, world, django_assert_max_num_queries
    ):
        cohort = TrainingCohortFactory(programme=world.programme, centre=world.centre, sessions=3)
        apps = [
            world.application(submitted=True, applicant=ApplicantFactory(centre=world.centre))
            for _ in range(4)
        ]
        enrolments = [Enrolment.objects.create(cohort=cohort, application=a) for a in apps]
        sessions = list(cohort.sessions.all())

        with django_assert_max_num_queries(20):
            page = officer.get(reverse("cohort-detail", args=[cohort.pk]))
        for application in apps:
            assert application.applicant.full_name in page.content.decode()

        marks = {f"present-{e.pk}-{s.pk}": "on" for e in enrolments[:2] for s in sessions}
        response = officer.post(reverse("cohort-attendance", args=[cohort.pk]), marks)

        assert response.status_code == 302
        assert Attendance.objects.filter(present=True).count() == 6
        assert Attendance.objects.filter(enrolment=enrolments[3]).count() == 0

        del marks[f"present-{enrolments[0].pk}-{sessions[0].pk}"]
        officer.post(reverse("cohort-attendance", args=[cohort.pk]), marks)
        assert Attendance.objects.get(enrolment=enrolments[0], session=sessions[0]).present is False

    def test_enrol_from_the_course_page(self, officer, world):
        cohort = TrainingCohortFactory(programme=world.programme, centre=world.centre)
        application = world.application(submitted=True)

        page = officer.get(reverse("cohort-detail", args=[cohort.pk])).content.decode()
        assert f'<option value="{application.pk}"' in page
        officer.post(reverse("cohort-enrol", args=[cohort.pk]), {"application": application.pk})

        assert Enrolment.objects.filter(cohort=cohort, application=application, active=True).exists()

    def test_the_list_shows_each_course_with_its_dates(self, officer, world, django_assert_max_num_queries):
        for n in range(3):
            TrainingCohortFactory(
                programme=world.programme, centre=world.centre, title=f"Course {n}", sessions=4
            )
        TrainingCohortFactory(programme=world.other_programme, centre=world.other_centre, title="Elsewhere")
        with django_assert_max_num_queries(14):
            body = officer.get(reverse("cohort-list")).content.decode()
        assert all(f"Course {n}" in body for n in range(3))
        assert "Elsewhere" not in body
        assert body.count("4: ") == 3

    def test_another_centres_course_is_not_found(self, officer, world):
        cohort = TrainingCohortFactory(programme=world.other_programme, centre=world.other_centre)
        assert officer.get(reverse("cohort-detail", args=[cohort.pk])).status_code == 404
        assert officer.post(reverse("cohort-attendance", args=[cohort.pk]), {}).status_code == 404


class TestAssessmentForm:
    def test_it_shows_the_programmes_rubric_and_saves_an_assessment(self, officer, world):
        application = world.application(training=True)
        url = reverse("assessment-form", args=[application.pk])
        page = officer.get(url).content.decode()
        for label in ("Viability", "Skills and experience", "Market", "Need", "Commitment"):
            assert label in page

        scores = {f"score_{c}": "4" for c in ("viability", "skills", "market", "need", "commitment")}
        response = officer.post(
            url,
            {
                **scores,
                "recommendation": "approve",
                "reasons": "Good plan.",
                "site_visit_on": today().isoformat(),
            },
        )

        assert response.status_code == 302
        assessment = Assessment.objects.get(application=application, is_current=True)
        assert (assessment.assessor, assessment.recommendation, str(assessment.weighted_score)) == (
            world.officer,
            "approve",
            "4.00",
        )
        assert audit_actions(application)[-1] == "assessed"

    def test_a_missing_score_is_named_and_the_typing_kept(self, officer, world):
        application = world.application(training=True)
        response = officer.post(
            reverse("assessment-form", args=[application.pk]),
            {"score_viability": "5", "recommendation": "approve", "reasons": "Kept reasons"},
        )
        body = response.content.decode()
        assert response.status_code == 400
        assert "Kept reasons" in body
        assert 'value="5" class="scale" required id="id_score_viability_4" checked>' in body
        assert not Assessment.objects.filter(application=application, assessor=world.officer).exists()

    def test_a_future_site_visit_is_refused(self, officer, world):
        application = world.application(training=True)
        scores = {f"score_{c}": "4" for c in ("viability", "skills", "market", "need", "commitment")}
        tomorrow = (today() + datetime.timedelta(days=1)).isoformat()
        response = officer.post(
            reverse("assessment-form", args=[application.pk]),
            {**scores, "recommendation": "approve", "site_visit_on": tomorrow},
        )
        assert response.status_code == 400
        assert "cannot be in the future" in response.content.decode()


class TestVisitForm:
    def test_it_records_a_visit(self, officer, world):
        application = world.application(
            follow_up=True, state_facts__delivered_on=today() - datetime.timedelta(days=95)
        )
        visit = application.visits.order_by("months").first()
        url = reverse("visit-form", args=[visit.pk])
        assert officer.get(url).status_code == 200

        response = officer.post(
            url,
            {
                "visited_on": today().isoformat(),
                "operating": "yes",
                "equipment_in_use": "yes",
                "monthly_revenue": "650",
                "jobs_owner": "1",
                "jobs_family": "1",
                "jobs_employees": "0",
                "notes": "Busy workshop.",
            },
        )

        assert response.status_code == 302
        visit.refresh_from_db()
        assert (visit.visited_on, visit.operating, visit.jobs, visit.recorded_by) == (
            today(),
            True,
            2,
            world.officer,
        )
        assert audit_actions(application)[-1] == "visit_recorded"

    def test_a_visit_in_the_future_is_refused_and_nothing_saved(self, officer, world):
        application = world.application(follow_up=True)
        visit = application.visits.first()
        tomorrow = (today() + datetime.timedelta(days=1)).isoformat()
        response = officer.post(
            reverse("visit-form", args=[visit.pk]),
            {
                "visited_on": tomorrow,
                "operating": "yes",
                "equipment_in_use": "yes",
                "jobs_owner": "1",
                "jobs_family": "0",
                "jobs_employees": "0",
            },
        )
        assert response.status_code == 400
        visit.refresh_from_db()
        assert visit.visited_on is None

    def test_then_complete_from_the_page(self, officer, world):
        application = world.application(follow_up=True)
        application.visits.update(visited_on=today(), operating=True, equipment_in_use=True)
        officer.post(reverse("application-step", args=[application.pk]), {"transition": "complete"})
        application.refresh_from_db()
        assert application.state == "completed"


class TestForbidden:
    @pytest.mark.parametrize(
        "name", ["approvals", "finance-budget", "finance-commitments", "dashboard", "my-applications"]
    )
    def test_other_roles_pages_answer_403(self, officer, name):
        assert officer.get(reverse(name)).status_code == 403

    def test_without_the_second_factor_staff_are_sent_to_the_code_page(self, client, world):
        client.force_login(world.officer)
        response = client.get(reverse("inbox"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("otp-verify"))

    def test_the_home_page_sends_the_officer_to_the_inbox(self, officer):
        assert officer.get(reverse("home")).url == reverse("inbox")

    def test_the_menu_has_the_officers_pages(self, officer):
        body = officer.get(reverse("inbox")).content.decode()
        for name in ("inbox", "applicant-list", "applicant-register", "cohort-list"):
            assert f'href="{reverse(name)}"' in body
        assert f'href="{reverse("approvals")}"' not in body


def test_the_training_guard_is_shown_to_the_manager(client, world):
    application = world.application(training=True)
    verified_login(client, world.manager)
    body = client.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert "There is no assessment recommending approval." in body


class TestDuplicates:
    def test_it_lists_the_flags_of_my_centres_and_records_the_decision(self, officer, world):
        twin = ApplicantFactory(centre=world.centre, first_name="Marko", last_name="Demic")
        flag = DuplicateFlag.objects.create(
            applicant=twin, other=world.person, reasons=["same_name_and_birth_date"]
        )
        elsewhere = ApplicantFactory(centre=world.other_centre, first_name="Ana", last_name="Far")
        DuplicateFlag.objects.create(applicant=elsewhere, other=world.person2, reasons=["same_phone"])

        page = officer.get(reverse("duplicate-list")).content.decode()
        assert "same name and date of birth" in page
        assert "Ana Far" not in page

        response = officer.post(reverse("duplicate-decide", args=[flag.pk]), {"decision": "different_person"})

        assert response.url == reverse("duplicate-list")
        flag.refresh_from_db()
        assert (flag.decision, flag.decided_by) == ("different_person", world.officer)
        assert AuditEvent.objects.filter(action="duplicate_decided", actor=world.officer).exists()
        assert Applicant.objects.filter(pk__in=[twin.pk, world.person.pk]).count() == 2  # nothing merged

    def test_a_match_at_another_centre_is_not_described_and_goes_to_a_manager(self, officer, world):
        twin = ApplicantFactory(centre=world.centre, first_name="Arta", last_name="Demaj")
        flag = DuplicateFlag.objects.create(applicant=twin, other=world.person2, reasons=["same_phone"])
        page = officer.get(reverse("duplicate-list")).content.decode()
        assert "A possible match exists in another centre: ask your programme manager." in page
        assert world.person2.phone not in page
        assert world.person2.centre.name not in page and "same phone number" not in page
        # (the officer cannot decide what they cannot see)
        assert reverse("duplicate-decide", args=[flag.pk]) not in page

    def test_a_flag_of_another_centre_is_not_found(self, officer, world):
        elsewhere = ApplicantFactory(centre=world.other_centre)
        flag = DuplicateFlag.objects.create(applicant=elsewhere, other=world.person2, reasons=["same_phone"])
        response = officer.post(reverse("duplicate-decide", args=[flag.pk]), {"decision": "same_person"})
        assert response.status_code == 404
        flag.refresh_from_db()
        assert flag.decision == "pending"


def test_a_completed_training_offers_the_certificate(client, world):
    application = world.application(training=True)
    verified_login(client, world.officer)
    body = client.get(reverse("application-detail", args=[application.pk])).content.decode()
    assert reverse("api:application-certificate", args=[application.pk]) in body
