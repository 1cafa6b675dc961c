"""Issue 23, the server's side: the field pack (no sensitive fact, bounded queries), and
the sync of items captured offline: created, already received, refused with the reason
in the officer's language, conflict with the server's version; never twice, role by
role."""

import datetime
import io
import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from applicants.models import Applicant, ConsentRecord, DuplicateFlag
from applicants.sensitivity import SENSITIVE_FIELDS
from assessments.models import Attendance, MonitoringVisit
from audit.models import AuditEvent
from field import sync
from grants.models import Document, GrantApplication

from .conftest import verified_login
from .factories import (
    ApplicantFactory,
    ApplicantSensitiveFactory,
    AttendanceFactory,
    EnrolmentFactory,
    TrainingCohortFactory,
)

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
PACK, SYNC, SESSION = "/api/v1/field/pack/", "/api/v1/field/sync/", "/api/v1/field/session/"


def days(n):
    return TODAY + datetime.timedelta(days=n)


def signed_in(user):
    return verified_login(Client(), user)


def photo(name="shop.png"):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "#3a7").save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def item(kind, data, *, captured_at=None, item_id=None):
    return {
        "id": str(item_id or uuid.uuid4()),
        "kind": kind,
        "captured_at": (captured_at or timezone.now() - datetime.timedelta(hours=2)).isoformat(),
        kind: data,
    }


def visit_data(visit, **values):
    return {
        "visit": visit.pk,
        "visited_on": TODAY.isoformat(),
        "operating": True,
        "equipment_in_use": True,
        "monthly_revenue": "450.00",
        "jobs_owner": 1,
        "jobs_family": 1,
        "notes": "Shop open, machines in use.",
        **values,
    }


def post(client, body, *, key=None, **extra):
    key = key or body["id"]
    return client.post(
        SYNC, json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key, **extra
    )


def registration(world, **values):
    return {
        "centre": world.centre.pk,
        "first_name": "Jelena",
        "last_name": "Marković",
        "date_of_birth": "1991-04-02",
        "target_groups": ["socially_disadvantaged"],
        "consent_on_paper": True,
        **values,
    }


@pytest.fixture
def due_visit(world):
    application = world.application(follow_up=True, state_facts__delivered_on=days(-95))
    return application.visits.get(months=3)


@pytest.fixture
def cohort(world):
    cohort = TrainingCohortFactory(programme=world.programme, centre=world.centre, sessions=2)
    enrolment = EnrolmentFactory(cohort=cohort, application=world.application(submitted=True))
    return cohort, enrolment.application


def enrol_directly(cohort, applicant):
    """Training as a service of its own: the person is in the cohort without any
    application."""
    return EnrolmentFactory(cohort=cohort, application=None, applicant=applicant).applicant


@pytest.fixture
def direct(world, cohort):
    """The cohort above with a person enrolled directly, of the officer's centre."""
    cohort = cohort[0]
    person = enrol_directly(
        cohort, ApplicantFactory(centre=world.centre, first_name="Dragan", last_name="Ilić")
    )
    return cohort, person


def keys_of(value):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from keys_of(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from keys_of(inner)


class TestPack:
    def test_it_carries_what_the_forms_need(self, world, due_visit, cohort, settings):
        settings.FIELD_PACK_DAYS = 10
        cohort, application = cohort
        pack = signed_in(world.officer).get(PACK).json()
        assert pack["days"] == 10
        issued = datetime.datetime.fromisoformat(pack["issued_at"])
        assert datetime.datetime.fromisoformat(pack["expires_at"]) - issued == datetime.timedelta(days=10)
        assert [v["id"] for v in pack["visits"]] == [due_visit.pk]
        assert pack["visits"][0]["business_name"] == due_visit.application.business_name
        ours = next(c for c in pack["cohorts"] if c["id"] == cohort.pk)
        assert [p["application"] for p in ours["people"]] == [application.pk]
        assert len(ours["sessions"]) == 2
        assert [c["id"] for c in pack["centres"]] == [world.centre.pk]
        assert world.programme.pk in [p["id"] for p in pack["programmes"]]
        assert world.other_programme.pk not in [p["id"] for p in pack["programmes"]]
        assert "crafts" in [s["value"] for s in pack["sectors"]]

    def test_it_holds_no_sensitive_fact_and_no_document(self, world, due_visit, cohort):
        assert due_visit.application.applicant == cohort[1].applicant
        ApplicantSensitiveFactory(
            applicant=cohort[1].applicant, referral_other="KPZ Sremska Mitrovica", ethnicity="Roma"
        )
        # A person enrolled without an application, with every sensitive fact recorded.
        trainee = enrol_directly(cohort[0], ApplicantFactory(centre=world.centre))
        ApplicantSensitiveFactory(
            applicant=trainee, referral_other="KPZ Niš", ethnicity="Egyptian", returned_from="Sweden"
        )
        Applicant.objects.update(address="Ulica 1", national_id="0101990710011", phone="+381641234567")
        body = signed_in(world.officer).get(PACK).content.decode()
        pack = json.loads(body)
        ours = next(c for c in pack["cohorts"] if c["id"] == cohort[0].pk)
        assert [p["applicant"] for p in ours["direct_people"]] == [trainee.pk]
        for value in ("KPZ Niš", "Egyptian", "Sweden"):
            assert value not in body
        keys = set(keys_of(pack))
        assert not keys & set(SENSITIVE_FIELDS), keys & set(SENSITIVE_FIELDS)
        assert not keys & {"address", "national_id", "phone", "email", "documents", "document", "file"}
        for value in ("Ulica 1", "0101990710011", "+381641234567", "Sremska", "Roma"):
            assert value not in body

    def test_it_takes_the_same_queries_whatever_its_size(self, world):
        client = signed_in(world.officer)
        client.get(PACK)  # the session's first request writes when it was last seen
        counts = []
        for _n in range(2):
            for _m in range(2):
                world.application(follow_up=True, state_facts__delivered_on=days(-95))
                cohort = TrainingCohortFactory(programme=world.programme, centre=world.centre, sessions=3)
                EnrolmentFactory(cohort=cohort, application=world.application(submitted=True))
                trainee = enrol_directly(cohort, ApplicantFactory(centre=world.centre))
                session = cohort.sessions.first()
                AttendanceFactory(enrolment=trainee.direct_enrolments.get(), session=session, present=True)
            with CaptureQueriesContext(connection) as queries:
                pack = client.get(PACK).json()
            counts.append(len(queries))
        assert len(pack["visits"]) == 4 and len(pack["cohorts"]) >= 4
        assert sum(len(c["direct_people"]) for c in pack["cohorts"]) == 4
        assert sum(len(c["direct_marks"]) for c in pack["cohorts"]) == 4
        assert counts[0] == counts[1] <= 20, counts

    @pytest.mark.parametrize("role", ["manager", "finance", "auditor", "procurement", "applicant"])
    def test_it_is_for_field_officers_only(self, world, role):
        for path in (PACK, SESSION):
            assert signed_in(getattr(world, role)).get(path).status_code == 403
        assert signed_in(world.manager).post(SYNC, "{}", content_type="application/json").status_code == 403

    def test_it_needs_a_session(self, world):
        assert Client().get(PACK).status_code == 401
        assert Client().get(SESSION).status_code == 401
        assert Client().post(SYNC, "{}", content_type="application/json").status_code == 401

    def test_the_session_check_gives_the_user_and_a_csrf_token(self, world):
        body = signed_in(world.officer).get(SESSION).json()
        assert body["user"] == world.officer.pk and len(body["csrf_token"]) >= 32


class TestVisit:
    def test_it_records_the_visit_with_its_photo_and_both_times(self, world, due_visit):
        client = signed_in(world.officer)
        captured = timezone.now() - datetime.timedelta(hours=3)
        body = item("visit", visit_data(due_visit), captured_at=captured)
        response = client.post(
            SYNC,
            {"item": json.dumps(body), "photos": [photo()]},
            HTTP_IDEMPOTENCY_KEY=body["id"],
        )
        assert response.status_code == 201, response.content
        answer = response.json()
        assert answer["outcome"] == "created" and answer["record"]["photos"] == 1
        due_visit.refresh_from_db()
        assert due_visit.visited_on == TODAY and due_visit.recorded_by == world.officer
        assert due_visit.jobs_family == 1 and str(due_visit.monthly_revenue) == "450.00"
        assert Document.objects.filter(application=due_visit.application, kind="photo").count() == 1
        assert (
            AuditEvent.objects.filter(action="visit_recorded", application=due_visit.application).count() == 1
        )
        synced = AuditEvent.objects.get(action="field_item_synced")
        assert synced.actor == world.officer and synced.application == due_visit.application
        assert synced.data["device_item"] == body["id"] and synced.data["kind"] == "visit"
        assert datetime.datetime.fromisoformat(synced.data["captured_at"]) == captured
        assert datetime.datetime.fromisoformat(synced.data["synced_at"]) >= captured

    def test_a_request_sent_again_after_a_lost_answer_records_once(self, world, due_visit):
        client = signed_in(world.officer)
        body = item("visit", visit_data(due_visit))
        first = post(client, body)
        again = post(client, body)
        assert first.status_code == again.status_code == 201
        assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
        # Past the key's lifetime (or sent without it) the device's id still answers.
        third = post(client, body, key=str(uuid.uuid4()))
        assert third.status_code == 200 and third.json()["outcome"] == "already_received"
        assert AuditEvent.objects.filter(action="visit_recorded").count() == 1
        assert AuditEvent.objects.filter(action="field_item_synced").count() == 1

    def test_a_visit_recorded_meanwhile_is_a_conflict_with_the_servers_version(self, world, due_visit):
        colleague = signed_in(world.colleague)
        assert (
            post(colleague, item("visit", visit_data(due_visit, notes="Closed on Mondays."))).status_code
            == 201
        )
        recorded = MonitoringVisit.objects.get(pk=due_visit.pk)
        client = signed_in(world.officer)
        mine = item("visit", visit_data(due_visit, jobs_employees=2))
        response = post(client, mine)
        assert response.status_code == 409
        answer = response.json()
        assert answer["outcome"] == "conflict" and answer["code"] == "recorded_meanwhile"
        assert answer["record"]["notes"] == "Closed on Mondays." and answer["record"]["jobs_employees"] == 0
        assert answer["record"]["recorded_by"] == world.colleague.get_username()
        assert MonitoringVisit.objects.get(pk=due_visit.pk).recorded_at == recorded.recorded_at
        # The officer decides to send theirs as a correction of what they were shown.
        correction = item(
            "visit",
            visit_data(due_visit, jobs_employees=2, known_recorded_at=answer["record"]["recorded_at"]),
        )
        assert post(client, correction).json()["outcome"] == "created"
        visit = MonitoringVisit.objects.get(pk=due_visit.pk)
        assert visit.jobs_employees == 2 and visit.recorded_by == world.officer
        event = AuditEvent.objects.filter(action="visit_recorded").order_by("-id").first()
        # The colleague's finding stays in the trail as what the correction replaced.
        assert event.data["before"] == {"jobs_employees": 0} and event.data["after"] == {"jobs_employees": 2}

    def test_an_application_that_moved_on_is_a_conflict(self, world, due_visit):
        GrantApplication.objects.filter(pk=due_visit.application_id).update(state="completed")
        response = post(signed_in(world.officer), item("visit", visit_data(due_visit)))
        assert response.status_code == 409
        assert response.json()["record"]["state"] == "completed"
        assert MonitoringVisit.objects.get(pk=due_visit.pk).visited_on is None

    def test_an_officer_of_another_centre_cannot_sync_into_it(self, world, due_visit):
        response = post(signed_in(world.officer2), item("visit", visit_data(due_visit)))
        assert response.status_code == 404 and response.json()["outcome"] == "refused"
        assert MonitoringVisit.objects.get(pk=due_visit.pk).visited_on is None
        assert not AuditEvent.objects.filter(action="field_item_synced").exists()


class TestPrizren:
    """The officer of Niš cannot sync anything into Prizren; Prizren's officer can."""

    @pytest.fixture
    def prizren_visit(self, world):
        application = world.application(
            applicant=world.person2,
            programme=world.other_programme,
            assigned_officer=world.officer2,
            follow_up=True,
            state_facts__delivered_on=days(-95),
        )
        return application.visits.get(months=3)

    def test_a_visit_there_is_not_found_for_nis(self, world, prizren_visit):
        response = post(signed_in(world.officer), item("visit", visit_data(prizren_visit)))
        assert response.status_code == 404 and response.json()["outcome"] == "refused"
        assert MonitoringVisit.objects.get(pk=prizren_visit.pk).visited_on is None
        assert post(signed_in(world.officer2), item("visit", visit_data(prizren_visit))).status_code == 201

    def test_nis_gets_none_of_it_in_the_pack(self, world, prizren_visit):
        pack = signed_in(world.officer).get(PACK).json()
        assert prizren_visit.pk not in [v["id"] for v in pack["visits"]]
        assert world.other_centre.pk not in [c["id"] for c in pack["centres"]]
        assert prizren_visit.pk in [v["id"] for v in signed_in(world.officer2).get(PACK).json()["visits"]]


class TestCaptureTime:
    @pytest.mark.parametrize(
        ("offset", "code"),
        [
            (datetime.timedelta(hours=1), "captured_in_future"),
            (-datetime.timedelta(days=15), "captured_too_long_ago"),
        ],
    )
    def test_an_impossible_capture_time_is_refused(self, world, due_visit, offset, code):
        body = item("visit", visit_data(due_visit), captured_at=timezone.now() + offset)
        response = post(signed_in(world.officer), body)
        assert response.status_code == 400 and response.json()["code"] == code
        assert MonitoringVisit.objects.get(pk=due_visit.pk).visited_on is None

    def test_the_oldest_allowed_follows_the_setting(self, world, due_visit, settings):
        settings.FIELD_PACK_DAYS = 20
        body = item("visit", visit_data(due_visit), captured_at=timezone.now() - datetime.timedelta(days=15))
        assert post(signed_in(world.officer), body).status_code == 201


class TestAttendance:
    def test_it_records_the_mark_once(self, world, cohort):
        cohort, application = cohort
        session = cohort.sessions.first()
        client = signed_in(world.officer)
        body = item("attendance", {"session": session.pk, "application": application.pk, "present": True})
        assert post(client, body).status_code == 201
        assert post(client, body).status_code == 201
        assert Attendance.objects.filter(session=session).count() == 1
        assert AuditEvent.objects.filter(action="attendance_recorded").count() == 1

    def test_a_different_mark_made_meanwhile_is_a_conflict(self, world, cohort):
        cohort, application = cohort
        session = cohort.sessions.first()
        other = {"session": session.pk, "application": application.pk, "present": False}
        assert post(signed_in(world.colleague), item("attendance", other)).status_code == 201
        mine = item("attendance", {**other, "present": True, "known_present": None})
        response = post(signed_in(world.officer), mine)
        assert response.status_code == 409
        assert response.json()["record"]["present"] is False
        assert Attendance.objects.get(session=session).present is False

    def test_another_centres_session_is_refused(self, world, cohort):
        cohort, application = cohort
        body = item(
            "attendance",
            {"session": cohort.sessions.first().pk, "application": application.pk, "present": True},
        )
        response = post(signed_in(world.officer2), body)
        assert response.status_code == 404
        assert not Attendance.objects.exists()


class TestTrainingWithoutApplication:
    """Issue 21's training as its own service, offline: the people enrolled directly are
    on the session's sheet in the pack, and their marks sync like the others."""

    def test_the_pack_carries_them_with_their_marks(self, world, direct):
        cohort, person = direct
        session = cohort.sessions.first()
        AttendanceFactory(enrolment=person.direct_enrolments.get(), session=session, present=False)
        pack = signed_in(world.officer).get(PACK).json()
        ours = next(c for c in pack["cohorts"] if c["id"] == cohort.pk)
        assert ours["direct_people"] == [{"applicant": person.pk, "name": "Dragan Ilić"}]
        assert ours["direct_marks"] == [{"session": session.pk, "applicant": person.pk, "present": False}]
        # The people enrolled through an application stay where they were, alone.
        assert [p["application"] for p in ours["people"]] and ours["marks"] == []

    def test_a_person_of_a_centre_the_officer_does_not_work_for_is_not_in_it(self, world, direct):
        cohort, _person = direct
        outsider = enrol_directly(cohort, ApplicantFactory(centre=world.other_centre))
        AttendanceFactory(enrolment=outsider.direct_enrolments.get(), present=True)
        pack = signed_in(world.officer).get(PACK).json()
        ours = next(c for c in pack["cohorts"] if c["id"] == cohort.pk)
        assert outsider.pk not in [p["applicant"] for p in ours["direct_people"]]
        assert outsider.pk not in [m["applicant"] for m in ours["direct_marks"]]

    def test_the_pack_costs_a_bounded_number_of_queries(self, world, direct, django_assert_max_num_queries):
        client = signed_in(world.officer)
        client.get(PACK)  # the session's first request writes when it was last seen
        for _n in range(5):
            cohort = TrainingCohortFactory(programme=world.programme, centre=world.centre, sessions=2)
            for _m in range(3):
                enrol_directly(cohort, ApplicantFactory(centre=world.centre))
        with django_assert_max_num_queries(20):
            pack = client.get(PACK).json()
        assert sum(len(c["direct_people"]) for c in pack["cohorts"]) == 16

    def test_their_mark_is_applied_once_however_often_sent(self, world, direct):
        cohort, person = direct
        session = cohort.sessions.first()
        client = signed_in(world.officer)
        body = item("attendance", {"session": session.pk, "applicant": person.pk, "present": True})
        first = post(client, body)
        assert first.status_code == 201, first.json()
        assert first.json()["record"]["applicant"] == person.pk
        assert first.json()["record"]["application"] is None
        assert post(client, body).status_code == 201  # the same request again: replayed
        again = post(client, body, key=str(uuid.uuid4()))  # the key forgotten: the device id
        assert again.json()["outcome"] == sync.ALREADY_RECEIVED
        same = item("attendance", {"session": session.pk, "applicant": person.pk, "present": True})
        assert post(client, same).status_code == 201  # captured twice on the phone
        assert Attendance.objects.filter(session=session, enrolment__applicant=person).count() == 1
        assert Attendance.objects.get(session=session, enrolment__applicant=person).present is True
        assert AuditEvent.objects.filter(action="attendance_recorded", applicant=person).count() == 1
        synced = AuditEvent.objects.filter(action=sync.SYNCED_ACTION, applicant=person)
        assert synced.count() == 2 and {e.data["kind"] for e in synced} == {"attendance"}

    def test_a_different_mark_made_meanwhile_is_a_conflict(self, world, direct):
        cohort, person = direct
        session = cohort.sessions.first()
        other = {"session": session.pk, "applicant": person.pk, "present": False}
        assert post(signed_in(world.colleague), item("attendance", other)).status_code == 201
        response = post(signed_in(world.officer), item("attendance", {**other, "present": True}))
        assert response.status_code == 409
        server = response.json()["record"]
        assert (server["applicant"], server["session"], server["present"]) == (person.pk, session.pk, False)
        assert server["recorded_by"] == (world.colleague.get_full_name() or world.colleague.get_username())
        assert Attendance.objects.get().present is False
        correction = {**other, "present": True, "known_present": False}
        assert post(signed_in(world.officer), item("attendance", correction)).status_code == 201
        assert Attendance.objects.get().present is True

    def test_a_person_of_another_centre_is_refused(self, world, direct):
        cohort, _person = direct
        outsider = enrol_directly(cohort, ApplicantFactory(centre=world.other_centre))
        body = item(
            "attendance", {"session": cohort.sessions.first().pk, "applicant": outsider.pk, "present": True}
        )
        response = post(signed_in(world.officer), body)
        assert response.status_code == 404
        assert response.json()["outcome"] == sync.REFUSED and response.json()["code"] == "not_found"
        assert not Attendance.objects.exists()

    def test_another_centres_officer_is_refused(self, world, direct):
        cohort, person = direct
        body = item(
            "attendance", {"session": cohort.sessions.first().pk, "applicant": person.pk, "present": True}
        )
        response = post(signed_in(world.officer2), body)
        assert response.status_code == 404
        assert not Attendance.objects.exists()

    def test_a_person_not_enrolled_in_the_cohort_is_refused_with_its_code(self, world, direct):
        cohort, person = direct
        elsewhere = TrainingCohortFactory(programme=world.programme, centre=world.centre, sessions=1)
        stranger = ApplicantFactory(centre=world.centre)
        client = signed_in(world.officer)
        for who, session in ((stranger, cohort.sessions.first()), (person, elsewhere.sessions.first())):
            response = post(
                client, item("attendance", {"session": session.pk, "applicant": who.pk, "present": True})
            )
            assert response.status_code == 400
            answer = response.json()
            assert answer["outcome"] == sync.REFUSED and answer["code"] == "not_enrolled"
            assert answer["errors"] == {"applicant": ["Not enrolled in this cohort."]}
        assert not Attendance.objects.exists()

    @pytest.mark.parametrize("who", [{}, {"application": 1, "applicant": 1}], ids=["neither", "both"])
    def test_the_item_names_the_application_or_the_applicant(self, world, direct, who):
        cohort, _person = direct
        body = item("attendance", {"session": cohort.sessions.first().pk, "present": True, **who})
        response = post(signed_in(world.officer), body)
        assert response.status_code == 400
        assert response.json()["code"] == "application_or_applicant"
        assert not Attendance.objects.exists()


class TestRegistration:
    def test_it_registers_with_the_paper_consent_and_flags_duplicates(self, world):
        ApplicantFactory(
            centre=world.centre,
            first_name="Jelena",
            last_name="Marković",
            date_of_birth=datetime.date(1991, 4, 2),
        )
        body = item(
            "registration",
            registration(world, programme=world.programme.pk, business_name="Bakery", sector="food"),
        )
        response = post(signed_in(world.officer), body)
        assert response.status_code == 201, response.content
        record = response.json()["record"]
        person = Applicant.objects.get(pk=record["id"])
        assert record["possible_duplicates"] == 1
        assert DuplicateFlag.objects.filter(applicant=person).count() == 1
        consent = ConsentRecord.objects.get(applicant=person)
        assert consent.on_behalf and consent.recorded_by == world.officer
        assert GrantApplication.objects.get(pk=record["application"]).business_name == "Bakery"
        assert AuditEvent.objects.filter(action="register_applicant", applicant=person).count() == 1
        assert AuditEvent.objects.get(action="field_item_synced").applicant == person

    def test_without_consent_it_is_refused_in_the_officers_language(self, world):
        body = item("registration", registration(world, consent_on_paper=False))
        response = post(signed_in(world.officer), body, HTTP_ACCEPT_LANGUAGE="sr-latn")
        assert response.status_code == 400
        answer = response.json()
        assert answer["outcome"] == "refused" and "consent_given" in answer["errors"]
        assert answer["detail"] != "The applicant's consent is needed before their data is stored."
        assert not Applicant.objects.filter(first_name="Jelena").exists()

    def test_an_officer_cannot_register_into_another_centre(self, world):
        body = item("registration", registration(world, centre=world.other_centre.pk))
        response = post(signed_in(world.officer), body)
        assert response.status_code == 403 and response.json()["outcome"] == "refused"
        assert not Applicant.objects.filter(first_name="Jelena").exists()


class TestShape:
    def test_an_item_must_carry_its_own_kind(self, world, due_visit):
        body = item("visit", visit_data(due_visit))
        body["attendance"] = {"session": 1, "application": 1, "present": True}
        response = post(signed_in(world.officer), body)
        assert response.status_code == 400 and "attendance" in response.json()

    def test_only_a_visit_has_photos(self, world, cohort):
        cohort, application = cohort
        body = item(
            "attendance",
            {"session": cohort.sessions.first().pk, "application": application.pk, "present": True},
        )
        response = signed_in(world.officer).post(SYNC, {"item": json.dumps(body), "photos": [photo()]})
        assert response.status_code == 400 and not Attendance.objects.exists()

    def test_the_outcomes_are_the_four_of_the_contract(self):
        assert sync.OUTCOMES == ("created", "already_received", "refused", "conflict")


class TestWebApp:
    def test_the_service_worker_is_served_at_the_root(self, client):
        response = client.get("/sw.js")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/javascript")
        assert response["Service-Worker-Allowed"] == "/"
        assert b"/field/" in response.content and b"https://" not in response.content

    def test_the_manifest_names_the_field_pages_and_its_icons(self, client):
        body = client.get("/manifest.webmanifest").json()
        assert body["start_url"] == "/field/"
        assert {"192x192", "512x512"} <= {icon["sizes"] for icon in body["icons"]}

    def test_the_field_pages_are_for_field_officers(self, world):
        for path in ("/field/", "/field/visit/", "/field/attendance/", "/field/register/"):
            assert signed_in(world.officer).get(path).status_code == 200
            assert signed_in(world.finance).get(path).status_code == 403

    def test_logout_clears_the_sites_storage(self, world):
        response = signed_in(world.officer).post("/accounts/logout/")
        assert response["Clear-Site-Data"] == '"storage"'
