"""The endpoints integrators asked for (issue 22): who am I, sign out by DELETE, the
centres, visits due across applications, and a whole attendance sheet at once."""

import datetime

import pytest
from rest_framework.test import APIClient

from applicants.models import ApiToken
from assessments.models import Attendance
from assessments.services import create_cohort, enrol
from grants.models import AuditEvent

from .factories import ApplicantFactory, MonitoringVisitFactory, api_key, today


def with_token(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client


def ids(response):
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


@pytest.mark.django_db
class TestWhoAmI:
    def test_an_officer_reads_their_roles_centres_and_token(self, world):
        response = with_token(world.officer).get("/api/v1/me/")
        assert response.status_code == 200
        me = response.json()
        assert (me["username"], me["roles"], me["staff"], me["applicant"]) == (
            "officer",
            ["field_officer"],
            True,
            None,
        )
        assert [c["id"] for c in me["centres"]] == [world.centre.pk]
        token = ApiToken.objects.get(user=world.officer)
        assert me["token"]["id"] == token.pk

    def test_an_applicant_reads_their_record_and_centre(self, world, api):
        me = api(world.applicant).get("/api/v1/me/").json()
        assert me["roles"] == ["applicant"] and me["staff"] is False
        assert me["applicant"] == world.person.pk
        assert [c["id"] for c in me["centres"]] == [world.centre.pk]
        assert me["token"] is None  # not signed in with a token

    def test_without_a_credential_it_is_401(self, db):
        assert APIClient().get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
class TestSignOut:
    def test_delete_auth_token_revokes_the_carried_token(self, world):
        client = with_token(world.applicant)
        assert client.delete("/api/v1/auth/token/").status_code == 204
        assert client.get("/api/v1/me/").status_code == 401
        assert AuditEvent.objects.filter(action="api_token_revoked").exists()

    def test_delete_without_a_token_is_refused_and_changes_nothing(self, world, api):
        api_key(world.applicant)
        response = api(world.applicant).delete("/api/v1/auth/token/")
        assert response.status_code == 400
        assert response.json()["code"] == "no_token"
        assert ApiToken.objects.filter(user=world.applicant).count() == 1

    def test_delete_without_any_credential_is_401(self, db):
        assert APIClient().delete("/api/v1/auth/token/").status_code == 401


@pytest.mark.django_db
class TestCentres:
    def test_each_role_lists_its_own_centres(self, world, api):
        assert ids(api(world.officer).get("/api/v1/centres/")) == [world.centre.pk]
        assert ids(api(world.officer2).get("/api/v1/centres/")) == [world.other_centre.pk]
        assert ids(api(world.manager).get("/api/v1/centres/")) == sorted(
            [world.centre.pk, world.other_centre.pk]
        )
        assert ids(api(world.applicant).get("/api/v1/centres/")) == [world.centre.pk]

    def test_roles_that_must_not_read_names_read_the_public_label(self, world, api):
        world.centre.name, world.centre.public_name = "Prison social service Niš", "Centre N"
        world.centre.save()
        names = {c["id"]: c["name"] for c in api(world.auditor).get("/api/v1/centres/").json()["results"]}
        assert names[world.centre.pk] == "Centre N"
        names = {c["id"]: c["name"] for c in api(world.manager).get("/api/v1/centres/").json()["results"]}
        assert names[world.centre.pk] == "Prison social service Niš"

    def test_the_list_costs_a_fixed_number_of_queries(self, world, api, django_assert_max_num_queries):
        client = api(world.manager)
        with django_assert_max_num_queries(8):
            assert client.get("/api/v1/centres/").status_code == 200


@pytest.mark.django_db
class TestVisitsDue:
    def visit(self, world, *, centre=None, days=3, officer=None):
        centre = centre or world.centre
        person = ApplicantFactory(centre=centre)
        application = world.application(
            applicant=person, follow_up=True, assigned_officer=officer or world.officer
        )
        # Only this visit is open: the follow-up's own visits are set far ahead.
        application.visits.update(due_on=today() + datetime.timedelta(days=400))
        return MonitoringVisitFactory(
            application=application, months=24, due_on=today() + datetime.timedelta(days=days)
        )

    def test_an_officer_lists_their_centres_due_visits_overdue_first(self, world, api):
        later, overdue = self.visit(world, days=20), self.visit(world, days=-5)
        self.visit(world, days=60)  # beyond the default four weeks
        self.visit(world, centre=world.other_centre, officer=world.officer2)

        response = api(world.officer).get("/api/v1/visits/due/")

        rows = response.json()["results"]
        assert [r["id"] for r in rows] == [overdue.pk, later.pk]
        assert [r["overdue"] for r in rows] == [True, False]
        assert rows[0]["window_opens"] and rows[0]["business_name"]

    def test_filters_narrow_and_never_widen(self, world, api):
        mine = self.visit(world)
        self.visit(world, officer=world.colleague)
        prizren = self.visit(world, centre=world.other_centre, officer=world.officer2)
        assert ids(api(world.officer).get("/api/v1/visits/due/?mine=true")) == [mine.pk]
        assert ids(api(world.officer).get(f"/api/v1/visits/due/?centre={world.other_centre.pk}")) == []
        assert prizren.pk in ids(api(world.manager).get("/api/v1/visits/due/?within_days=366"))

    @pytest.mark.parametrize("query", ["within_days=-1", "within_days=400", "within_days=soon", "centre=x"])
    def test_a_bad_filter_is_400_with_the_field_named(self, world, api, query):
        response = api(world.officer).get(f"/api/v1/visits/due/?{query}")
        assert response.status_code == 400
        assert query.split("=")[0] in response.json()

    def test_the_auditor_is_refused(self, world, api):
        assert api(world.auditor).get("/api/v1/visits/due/").status_code == 403

    def test_the_list_costs_a_fixed_number_of_queries(self, world, api, django_assert_max_num_queries):
        for days in range(12):
            self.visit(world, days=days)
        with django_assert_max_num_queries(8):
            assert len(api(world.officer).get("/api/v1/visits/due/").json()["results"]) == 12


@pytest.mark.django_db
class TestAttendanceSheet:
    @pytest.fixture
    def setting(self, world):
        cohort = create_cohort(
            by=world.officer,
            programme=world.programme,
            centre=world.centre,
            title="Start and run your business",
            session_dates=[today() - datetime.timedelta(days=7)],
        )
        people = [
            world.application(applicant=ApplicantFactory(centre=world.centre), submitted=True)
            for _ in range(3)
        ]
        for application in people:
            enrol(by=world.officer, cohort=cohort, application=application)
        return cohort, cohort.sessions.get(), people

    def post(self, world, cohort, body):
        return with_token(world.officer).post(
            f"/api/v1/cohorts/{cohort.pk}/attendance/sheet/", body, format="json"
        )

    def test_a_whole_sheet_is_recorded_at_once(self, world, setting):
        cohort, session, people = setting
        records = [{"application": a.pk, "present": i != 1} for i, a in enumerate(people)]

        response = self.post(world, cohort, {"session": session.pk, "records": records})

        assert response.status_code == 201, response.content
        assert response.json() == {"session": session.pk, "recorded": 3}
        marks = dict(
            Attendance.objects.filter(session=session).values_list("enrolment__application", "present")
        )
        assert marks == {people[0].pk: True, people[1].pk: False, people[2].pk: True}
        assert AuditEvent.objects.filter(action="attendance_recorded").count() == 3

    def test_one_refused_mark_saves_none_and_names_its_place(self, world, setting):
        cohort, session, people = setting
        stranger = world.application(applicant=ApplicantFactory(centre=world.centre), submitted=True)
        prizren = world.application(applicant=ApplicantFactory(centre=world.other_centre), submitted=True)
        records = [
            {"application": people[0].pk, "present": True},
            {"application": stranger.pk, "present": True},
            {"application": prizren.pk, "present": True},
        ]

        response = self.post(world, cohort, {"session": session.pk, "records": records})

        assert response.status_code == 400
        problems = response.json()["records"]
        assert problems[0].startswith("Mark 2:") and "enrolled" in problems[0]
        assert problems[1] == "Mark 3: no such application."
        assert not Attendance.objects.filter(session=session).exists()
        assert not AuditEvent.objects.filter(action="attendance_recorded").exists()

    def test_a_session_of_another_cohort_is_refused(self, world, setting):
        cohort, _, people = setting
        other = create_cohort(
            by=world.officer,
            programme=world.programme,
            centre=world.centre,
            title="Another",
            session_dates=[today() - datetime.timedelta(days=3)],
        )
        response = self.post(
            world,
            cohort,
            {"session": other.sessions.get().pk, "records": [{"application": people[0].pk, "present": True}]},
        )
        assert response.status_code == 400 and "session" in response.json()

    def test_an_empty_or_oversized_sheet_is_refused(self, world, setting):
        cohort, session, people = setting
        assert self.post(world, cohort, {"session": session.pk, "records": []}).status_code == 400
        many = [{"application": people[0].pk, "present": True}] * 201
        assert self.post(world, cohort, {"session": session.pk, "records": many}).status_code == 400
        assert not Attendance.objects.exists()

    def test_another_centres_officer_cannot_reach_the_cohort(self, world, setting):
        cohort, session, people = setting
        response = with_token(world.officer2).post(
            f"/api/v1/cohorts/{cohort.pk}/attendance/sheet/",
            {"session": session.pk, "records": [{"application": people[0].pk, "present": True}]},
            format="json",
        )
        assert response.status_code == 404


@pytest.mark.django_db
class TestStrictInput:
    """Bad paging or filter values are 400 with the field named, never a quiet 200."""

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("page=0", "page"),
            ("page=-1", "page"),
            ("page=two", "page"),
            ("page_size=0", "page_size"),
            ("page_size=lots", "page_size"),
            ("page_size=١٠", "page_size"),  # digits, but not ASCII ones
            ("state=nonsense", "state"),
            ("state=draft,nonsense", "state"),
            ("programme=abc", "programme"),
            ("centre=0", "centre"),
            ("q=" + "x" * 101, "q"),
        ],
    )
    def test_a_bad_value_is_400_with_the_field_named(self, world, api, query, field):
        response = api(world.officer).get(f"/api/v1/applications/?{query}")
        assert response.status_code == 400, response.content
        assert field in response.json()

    def test_good_values_still_work(self, world, api):
        world.application(submitted=True)
        world.application()
        client = api(world.officer)
        assert client.get("/api/v1/applications/?state=submitted").json()["count"] == 1
        assert (
            client.get("/api/v1/applications/?state=draft,submitted&page=1&page_size=1").json()["count"] == 2
        )
        # Above the largest page: the largest page, as before.
        assert client.get("/api/v1/applications/?page_size=500").status_code == 200

    def test_paging_is_strict_on_every_list(self, world, api):
        assert api(world.manager).get("/api/v1/centres/?page=x").status_code == 400
        assert api(world.officer).get("/api/v1/visits/due/?page_size=0").status_code == 400


@pytest.mark.django_db
class TestEveryErrorHasACode:
    """Every 4xx answer carries `detail` and a stable `code` (docs/api.md "Errors")."""

    def test_each_kind_of_error(self, world, api):
        app = world.application(applicant=ApplicantFactory(centre=world.other_centre))
        answers = {
            "not_authenticated": APIClient().get("/api/v1/applications/"),
            "authentication_failed": APIClient(HTTP_AUTHORIZATION="Token nope").get("/api/v1/applications/"),
            "not_found": api(world.officer).get(f"/api/v1/applications/{app.pk}/"),
            "not_allowed": api(world.auditor).get("/api/v1/applications/"),
            "invalid": api(world.officer).get("/api/v1/applications/?page=0"),
            "method_not_allowed": api(world.officer).put("/api/v1/me/", {}, format="json"),
            "parse_error": api(world.applicant).post(
                "/api/v1/applications/", data="{not json", content_type="application/json"
            ),
        }
        for code, response in answers.items():
            body = response.json()
            assert 400 <= response.status_code < 500, (code, response.status_code)
            assert body["detail"] and body["code"] == code, (code, body)

    def test_a_workflow_rule_not_met_says_which(self, world, api):
        draft = world.application()
        response = api(world.officer).post(
            f"/api/v1/applications/{draft.pk}/transitions/approve/", {}, format="json"
        )
        assert 400 <= response.status_code < 500
        assert response.json()["code"]
