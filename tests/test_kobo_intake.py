"""Form intake (docs/api.md "Form intake"): a KoboToolbox-shaped submission of the
monitoring-visit form becomes its visit once, however often it is posted; photos are
fetched only from the configured form server (KoboToolbox's download URLs, or ODK
Central's attachments API); refused submissions are kept and listed for a person of the
centre to correct and apply again, or to dismiss, audited."""

import datetime
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from applicants import roles, service_accounts
from grants.models import AuditEvent, Document, DocumentKind
from integrations.models import FormSubmission

from .conftest import run_at_once, verified_login
from .documents.support import jpeg, png

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


class FormServer:
    """A form server's attachments on loopback: `files` {path: (content type, body)},
    `redirects` {path: url}; keeps every request's path and Authorization header. With
    `authorization` set, answers 401 to a request without exactly that header, as ODK
    Central does to a token it does not know."""

    def __init__(self):
        self.files, self.redirects, self.requests = {}, {}, []
        self.authorization = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Authorization")))
                if server.authorization and self.headers.get("Authorization") != server.authorization:
                    self.send_response(401)
                    self.end_headers()
                    return
                if self.path in server.redirects:
                    self.send_response(302)
                    self.send_header("Location", server.redirects[self.path])
                    self.end_headers()
                    return
                found = server.files.get(self.path)
                if found is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                content_type, body = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def form_server(settings):
    server = FormServer()
    settings.INTAKE_ATTACHMENT_ORIGINS = [server.origin]
    settings.INTAKE_ATTACHMENT_TOKEN = "kobo-token"
    yield server
    server.httpd.shutdown()


@pytest.fixture
def central(settings):
    """An ODK Central server on loopback, configured (project 7, the form's id, a web
    user's session token) and the only form server: no KoboToolbox origin."""
    server = FormServer()
    server.authorization = "Bearer central-session-token"
    settings.INTAKE_ATTACHMENT_ORIGINS = []
    settings.INTAKE_CENTRAL_URL = server.origin
    settings.INTAKE_CENTRAL_PROJECT_ID = 7
    settings.INTAKE_CENTRAL_FORM_ID = "monitoring_visit"
    settings.INTAKE_CENTRAL_TOKEN = "central-session-token"
    yield server
    server.httpd.shutdown()


@pytest.fixture
def elsewhere():
    """A server that is not the form server (the cloud's metadata service, say)."""
    server = FormServer()
    yield server
    server.httpd.shutdown()


def key_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def kobo_account(world):
    account, key = service_accounts.create_service_account(
        by=world.manager, name="KoboToolbox Niš", role=roles.FIELD_OFFICER, centres=[world.centre], days=30
    )
    return account, key_client(key)


@pytest.fixture
def due(world):
    """A grant delivered 100 days ago: its 3-month visit is due and open to record."""
    application = world.application(
        follow_up=True, state_facts__delivered_on=TODAY - datetime.timedelta(days=100)
    )
    return application.visits.get(months=3)


def kobo_submission(application, /, *, months=3, instance=None, photos=(), **answers):
    """The JSON KoboToolbox's REST service posts (kpi's JSON service: the submission
    with its `_attachments` rewritten to download URLs)."""
    instance = instance or str(uuid.uuid4())
    body = {
        "_id": 4711,
        "formhub/uuid": "5b7c2a3f9d8e4c1b",
        "start": f"{TODAY}T09:58:00.000+01:00",
        "end": f"{TODAY}T10:20:00.000+01:00",
        "application_id": str(application),
        "visit_months": str(months),
        "visited_on": TODAY.isoformat(),
        "operating": "yes",
        "equipment_in_use": "yes",
        "monthly_revenue": "450.50",
        "jobs_owner": "1",
        "jobs_family": "2",
        "jobs_employees": "0",
        "notes": "The shop is open six days a week.",
        "__version__": "vQ3kXb9",
        "meta/instanceID": f"uuid:{instance}",
        "meta/rootUuid": f"uuid:{instance}",
        "_xform_id_string": "monitoring_visit",
        "_uuid": instance,
        "_attachments": [],
        "_status": "submitted_via_web",
        "_geolocation": [None, None],
        "_submission_time": f"{TODAY}T09:20:31",
        "_tags": [],
        "_notes": [],
        "_validation_status": {},
        "_submitted_by": "enumerator",
    }
    for n, (name, url) in enumerate(photos, start=1):
        body[f"photo_{n}"] = name
        body["_attachments"].append(
            {
                "download_url": url,
                "download_large_url": url,
                "download_medium_url": url,
                "download_small_url": url,
                "mimetype": "image/jpeg",
                "filename": f"kobo_user/attachments/5b7c2a3f9d8e4c1b/{instance}/{name}",
                "question_xpath": f"photo_{n}",
                "uid": f"attQ{n}",
            }
        )
    body.update(answers)
    return body


def central_row(application, /, *, origin, instance=None, photos=(), project=7, form="monitoring_visit"):
    """ODK Central's OData row of a submission (groups nested, `__id`, `__system`), as a
    relay forwards it with the feed's `@odata.context`; `photos` are file names."""
    instance = instance or str(uuid.uuid4())
    row = {
        "@odata.context": f"{origin}/v1/projects/{project}/forms/{form}.svc/$metadata#Submissions",
        "__id": f"uuid:{instance}",
        "__system": {
            "submissionDate": f"{TODAY}T09:20:31.000Z",
            "updatedAt": None,
            "submitterId": "12",
            "submitterName": "enumerator",
            "attachmentsPresent": len(photos),
            "attachmentsExpected": len(photos),
            "status": None,
            "reviewState": None,
            "deviceId": "collect:Xa9",
            "edits": 0,
            "formVersion": "2026120601",
        },
        "visit": {"application_id": application, "visit_months": 3, "visited_on": TODAY.isoformat()},
        "business": {"operating": "yes", "equipment_in_use": "yes", "monthly_revenue": 450.5},
        "jobs": {"jobs_owner": 1, "jobs_family": 2, "jobs_employees": 0},
        "notes": "The shop is open six days a week.",
        "photos": {f"photo_{n}": name for n, name in enumerate(photos, start=1)},
        "meta": {"instanceID": f"uuid:{instance}"},
    }
    return row


def central_path(instance_id, name, *, project=7, form="monitoring_visit"):
    return f"/v1/projects/{project}/forms/{form}/submissions/{instance_id}/attachments/{name}"


def post(client, body):
    return client.post("/api/v1/intake/kobo/", body, format="json")


class TestRecordedOnce:
    def test_a_kobotoolbox_shaped_submission_for_a_due_visit_records_it_once_however_often_it_is_posted(
        self, world, kobo_account, due, form_server
    ):
        account, client = kobo_account
        form_server.files["/api/v2/assets/aX/data/4711/attachments/attQ1/"] = ("image/jpeg", jpeg())
        body = kobo_submission(
            due.application_id,
            photos=[
                ("shop-10_20_30.jpg", f"{form_server.origin}/api/v2/assets/aX/data/4711/attachments/attQ1/")
            ],
        )

        answers = [post(client, body) for _ in range(4)]

        assert [a.status_code for a in answers] == [201] * 4
        assert all(a.json() == answers[0].json() for a in answers)
        assert answers[0].json()["status"] == "recorded" and answers[0].json()["visit"] == due.pk
        due.refresh_from_db()
        assert due.visited_on == TODAY and due.operating is True
        assert str(due.monthly_revenue) == "450.50"
        assert (due.jobs_owner, due.jobs_family, due.jobs_employees) == (1, 2, 0)
        assert due.recorded_by == account.user
        assert AuditEvent.objects.filter(action="visit_recorded", application=due.application).count() == 1
        assert AuditEvent.objects.filter(action="form_submission_recorded").count() == 1
        submission = FormSubmission.objects.get()
        assert submission.times_posted == 4 and submission.payload == body
        photo = Document.objects.get(application=due.application, kind=DocumentKind.PHOTO)
        assert photo.content_type == "image/jpeg"
        # Fetched once, with the form server's token.
        assert form_server.requests == [
            ("/api/v2/assets/aX/data/4711/attachments/attQ1/", "Token kobo-token")
        ]

    def test_the_same_submission_by_its_uuid_alone_is_the_same_submission(self, world, kobo_account, due):
        _account, client = kobo_account
        body = kobo_submission(due.application_id)
        assert post(client, body).status_code == 201
        without_meta = {k: v for k, v in body.items() if not k.startswith("meta/")}
        again = post(client, without_meta)
        assert again.status_code == 201
        assert FormSubmission.objects.count() == 1

    def test_odk_centrals_nested_shape_is_read_alike(self, world, kobo_account, due):
        _account, client = kobo_account
        flat = kobo_submission(due.application_id)
        body = {
            "__id": "uuid:" + flat["_uuid"],
            "__system": {"submitterName": "enumerator", "reviewState": None},
            "visit": {name: flat[name] for name in ("application_id", "visit_months", "visited_on")},
            "state": {name: flat[name] for name in ("operating", "equipment_in_use", "monthly_revenue")},
            "jobs_owner": 1,
            "meta": {"instanceID": "uuid:" + flat["_uuid"]},
        }
        answer = post(client, body)
        assert answer.status_code == 201, answer.content
        due.refresh_from_db()
        assert due.visited_on == TODAY and due.jobs_owner == 1


class TestRefusedAndKept:
    def test_a_nis_account_cannot_record_for_a_prizren_application_and_the_submission_is_kept(
        self, world, kobo_account
    ):
        _account, client = kobo_account
        prizren = world.application(
            applicant=world.person2,
            programme=world.other_programme,
            assigned_officer=world.officer2,
            follow_up=True,
            state_facts__delivered_on=TODAY - datetime.timedelta(days=100),
        )
        visit = prizren.visits.get(months=3)

        answers = [post(client, kobo_submission(prizren.pk, instance="f00d")) for _ in range(2)]

        assert [a.status_code for a in answers] == [422, 422]
        assert answers[0].json() == answers[1].json()
        assert answers[0].json()["code"] == "unknown_application"
        assert answers[0].json()["application"] is None  # nothing of Prizren is told
        visit.refresh_from_db()
        assert visit.visited_on is None
        kept = FormSubmission.objects.get()
        assert kept.status == "refused" and kept.centre == world.centre
        # Listed for Niš's staff, not Prizren's.
        assert [
            r["id"] for r in APIClient_for(world.officer).get("/api/v1/intake/submissions/").json()["results"]
        ] == [kept.pk]
        assert APIClient_for(world.officer2).get("/api/v1/intake/submissions/").json()["results"] == []

    def test_a_visit_not_yet_in_its_window_is_refused_with_the_rule(self, world, kobo_account):
        _account, client = kobo_account
        app = world.application(follow_up=True, state_facts__delivered_on=TODAY - datetime.timedelta(days=10))
        answer = post(client, kobo_submission(app.pk, months=12))
        assert answer.status_code == 422
        assert answer.json()["code"] == "visit_too_early"
        assert app.visits.get(months=12).visited_on is None
        assert AuditEvent.objects.filter(action="form_submission_refused", application=app).count() == 1

    @pytest.mark.parametrize(
        ("answers", "field"),
        [
            ({"operating": "maybe"}, "operating"),
            ({"visited_on": "last week"}, "visited_on"),
            ({"jobs_owner": "-1"}, "jobs_owner"),
            ({"monthly_revenue": "a lot"}, "monthly_revenue"),
            ({"application_id": ""}, "application_id"),
        ],
    )
    def test_bad_data_is_kept_refused_naming_the_answer(self, world, kobo_account, due, answers, field):
        _account, client = kobo_account
        answer = post(client, kobo_submission(due.application_id, **answers))
        assert answer.status_code == 422
        assert answer.json()["code"] == "invalid_data" and field in answer.json()["detail"]
        due.refresh_from_db()
        assert due.visited_on is None
        assert FormSubmission.objects.get().status == "refused"

    def test_without_an_instance_id_nothing_is_kept(self, world, kobo_account, due):
        _account, client = kobo_account
        body = {
            k: v
            for k, v in kobo_submission(due.application_id).items()
            if k not in ("_uuid", "meta/instanceID")
        }
        answer = post(client, body)
        assert answer.status_code == 400 and answer.json()["code"] == "no_instance_id"
        assert not FormSubmission.objects.exists()
        assert post(client, ["not", "an", "object"]).status_code == 400

    def test_only_a_field_officers_service_account_posts(self, world, due, api):
        _account, key = service_accounts.create_service_account(
            by=world.manager, name="Audit feed", role=roles.AUDITOR, centres=[world.centre], days=30
        )
        body = kobo_submission(due.application_id)
        assert post(key_client(key), body).status_code == 403
        assert post(api(world.officer), body).status_code == 403
        assert post(APIClient(), body).status_code == 401
        assert not FormSubmission.objects.exists()


def APIClient_for(user):  # noqa: N802 - reads as the class it wraps
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestPhotosOnlyFromTheFormServer:
    def test_a_photo_elsewhere_is_not_fetched_and_the_submission_is_kept(
        self, world, kobo_account, due, form_server, elsewhere
    ):
        _account, client = kobo_account
        elsewhere.files["/latest/meta-data/"] = ("image/jpeg", jpeg())
        answer = post(
            client,
            kobo_submission(due.application_id, photos=[("a.jpg", f"{elsewhere.origin}/latest/meta-data/")]),
        )
        assert answer.status_code == 422 and answer.json()["code"] == "photo_host_not_allowed"
        assert elsewhere.requests == []

    def test_a_redirect_away_from_the_form_server_is_not_followed(
        self, world, kobo_account, due, form_server, elsewhere
    ):
        _account, client = kobo_account
        form_server.redirects["/att/1/"] = f"{elsewhere.origin}/secret/"
        answer = post(
            client, kobo_submission(due.application_id, photos=[("a.jpg", f"{form_server.origin}/att/1/")])
        )
        assert answer.status_code == 422 and answer.json()["code"] == "photo_host_not_allowed"
        assert elsewhere.requests == []

    def test_a_path_alone_is_on_the_form_server_and_not_an_image_is_refused(
        self, world, kobo_account, due, form_server
    ):
        _account, client = kobo_account
        form_server.files["/att/2/"] = ("text/html", b"<html>login</html>")
        answer = post(client, kobo_submission(due.application_id, photos=[("a.jpg", "/att/2/")]))
        assert answer.status_code == 422 and answer.json()["code"] == "photo_type"
        assert form_server.requests[0][0] == "/att/2/"
        due.refresh_from_db()
        assert due.visited_on is None

    def test_without_a_configured_form_server_photos_are_kept_for_a_person(
        self, world, kobo_account, due, settings
    ):
        settings.INTAKE_ATTACHMENT_ORIGINS = []
        _account, client = kobo_account
        answer = post(
            client, kobo_submission(due.application_id, photos=[("a.jpg", "https://kf.example.org/a/")])
        )
        assert answer.status_code == 422 and answer.json()["code"] == "photos_not_configured"


class TestAPersonFixesIt:
    def test_correcting_the_visit_and_applying_again_records_it_audited(self, world, kobo_account, due):
        account, client = kobo_account
        refused = post(client, kobo_submission(due.application_id, months=5))
        assert refused.json()["code"] == "unknown_visit"
        submission = FormSubmission.objects.get()

        fixed = APIClient_for(world.officer).post(
            f"/api/v1/intake/submissions/{submission.pk}/reapply/",
            {"application": due.application_id, "months": 3},
            format="json",
        )

        assert fixed.status_code == 200, fixed.content
        assert fixed.json()["status"] == "recorded" and fixed.json()["visit"] == due.pk
        due.refresh_from_db()
        assert due.visited_on == TODAY and due.recorded_by == account.user
        event = AuditEvent.objects.get(action="form_submission_recorded")
        assert event.actor == world.officer and event.data["corrections"] == {
            "application": due.application_id,
            "months": 3,
        }
        # The form server posting it again now hears it is recorded.
        assert post(client, submission.payload).status_code == 201

    def test_dismissing_needs_a_reason_and_is_audited(self, world, kobo_account, due):
        _account, client = kobo_account
        post(client, kobo_submission(due.application_id, months=5))
        submission = FormSubmission.objects.get()
        officer = APIClient_for(world.officer)
        url = f"/api/v1/intake/submissions/{submission.pk}/dismiss/"

        assert officer.post(url, {"reason": ""}, format="json").status_code == 400
        done = officer.post(url, {"reason": "Sent twice from two phones."}, format="json")

        assert done.status_code == 200 and done.json()["status"] == "dismissed"
        event = AuditEvent.objects.get(action="form_submission_dismissed")
        assert event.actor == world.officer and event.comment == "Sent twice from two phones."
        again = post(client, submission.payload)
        assert again.status_code == 422 and again.json()["code"] == "submission_dismissed"
        assert officer.post(url, {"reason": "again"}, format="json").status_code == 409

    def test_another_centres_officer_cannot_see_or_fix_it(self, world, kobo_account, due):
        _account, client = kobo_account
        post(client, kobo_submission(due.application_id, months=5))
        submission = FormSubmission.objects.get()
        other = APIClient_for(world.officer2)
        assert (
            other.post(
                f"/api/v1/intake/submissions/{submission.pk}/reapply/",
                {"application": due.application_id, "months": 3},
                format="json",
            ).status_code
            == 404
        )
        assert (
            other.post(f"/api/v1/intake/submissions/{submission.pk}/dismiss/", {"reason": "x"}).status_code
            == 404
        )
        assert APIClient_for(world.finance).get("/api/v1/intake/submissions/").json()["results"] == []

    def test_the_staff_page_lists_and_fixes_it(self, world, kobo_account, due, client):
        _account, kobo = kobo_account
        post(kobo, kobo_submission(due.application_id, months=5))
        submission = FormSubmission.objects.get()
        verified_login(client, world.officer)

        listed = client.get("/intake/")
        assert listed.status_code == 200 and f"/intake/{submission.pk}/" in listed.text
        assert 'href="/intake/" aria-current="page"' in listed.text  # in the menu
        assert 'class="list cards"' in listed.text
        bad = client.post(f"/intake/{submission.pk}/reapply/", {"application": "", "months": "3"})
        assert bad.status_code == 400 and "error-summary" in bad.text
        done = client.post(
            f"/intake/{submission.pk}/reapply/", {"application": due.application_id, "months": 3}
        )
        assert done.status_code == 302
        submission.refresh_from_db()
        assert submission.status == "recorded"

        verified_login(client, world.officer2)
        assert client.get(f"/intake/{submission.pk}/").status_code == 404
        verified_login(client, world.finance)
        assert client.get("/intake/").status_code == 403

    def test_the_list_takes_a_bounded_number_of_queries(
        self, world, kobo_account, django_assert_max_num_queries
    ):
        _account, client = kobo_account
        for n in range(6):
            post(client, kobo_submission(900000 + n))
        officer = APIClient_for(world.officer)
        with django_assert_max_num_queries(8):
            rows = officer.get("/api/v1/intake/submissions/", {"status": "refused"}).json()["results"]
        assert len(rows) == 6
        assert officer.get("/api/v1/intake/submissions/", {"status": "lost"}).status_code == 400


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_submission_posted_at_the_same_moment_records_one_visit(world):
    _account, key = service_accounts.create_service_account(
        by=world.manager, name="KoboToolbox race", role=roles.FIELD_OFFICER, centres=[world.centre], days=30
    )
    application = world.application(
        follow_up=True, state_facts__delivered_on=TODAY - datetime.timedelta(days=100)
    )
    visit = application.visits.get(months=3)
    body = kobo_submission(application.pk)
    clients = [key_client(key) for _ in range(4)]

    answers = run_at_once([lambda c=c: post(c, body) for c in clients])

    assert [a.status_code for a in answers] == [201] * 4, answers
    assert len({a.json()["id"] for a in answers}) == 1
    visit.refresh_from_db()
    assert visit.visited_on == TODAY
    assert AuditEvent.objects.filter(action="visit_recorded", application=application).count() == 1
    assert FormSubmission.objects.get().times_posted == 4


class TestODKCentralPhotos:
    """An ODK Central row names its photos by file name: they are fetched from the
    configured Central server, project and form, through its attachments API."""

    def test_a_nested_central_row_with_photos_records_its_visit_once_with_the_photos(
        self, world, kobo_account, due, central
    ):
        account, client = kobo_account
        row = central_row(due.application_id, origin=central.origin, photos=["1733482800123.jpg", "shop.png"])
        first, second = (central_path(row["__id"], name) for name in ("1733482800123.jpg", "shop.png"))
        central.files[first] = ("image/jpeg", jpeg())
        central.files[second] = ("image/png", png())

        answers = [post(client, row) for _ in range(3)]

        assert [a.status_code for a in answers] == [201] * 3, answers[0].content
        assert all(a.json() == answers[0].json() for a in answers)
        assert answers[0].json()["status"] == "recorded" and answers[0].json()["visit"] == due.pk
        due.refresh_from_db()
        assert due.visited_on == TODAY and due.recorded_by == account.user
        assert str(due.monthly_revenue) == "450.50" and due.jobs_family == 2
        photos = Document.objects.filter(application=due.application, kind=DocumentKind.PHOTO)
        assert sorted(p.original_name for p in photos) == ["1733482800123.jpg", "shop.png"]
        assert AuditEvent.objects.filter(action="visit_recorded", application=due.application).count() == 1
        assert FormSubmission.objects.get().times_posted == 3
        # Each photo fetched once, from Central's attachments API, with the session token.
        assert central.requests == [
            (first, "Bearer central-session-token"),
            (second, "Bearer central-session-token"),
        ]
        assert first.startswith("/v1/projects/7/forms/monitoring_visit/submissions/uuid:")

    @pytest.mark.parametrize(
        "unset",
        [
            {"INTAKE_CENTRAL_URL": ""},
            {"INTAKE_CENTRAL_PROJECT_ID": None},
            {"INTAKE_CENTRAL_TOKEN": ""},
        ],
    )
    def test_without_central_configured_the_photos_are_not_fetched_and_the_submission_is_kept(
        self, world, kobo_account, due, central, settings, unset
    ):
        for name, value in unset.items():
            setattr(settings, name, value)
        _account, client = kobo_account
        row = central_row(due.application_id, origin=central.origin, photos=["a.jpg"])
        central.files[central_path(row["__id"], "a.jpg")] = ("image/jpeg", jpeg())

        answer = post(client, row)

        assert answer.status_code == 422 and answer.json()["code"] == "photos_not_configured"
        assert central.requests == []
        due.refresh_from_db()
        assert due.visited_on is None
        kept = FormSubmission.objects.get()
        assert kept.status == "refused" and kept.payload == row
        assert [
            r["id"] for r in APIClient_for(world.officer).get("/api/v1/intake/submissions/").json()["results"]
        ] == [kept.pk]

    def test_a_row_of_another_server_is_not_fetched_from_it_nor_from_central(
        self, world, kobo_account, due, central, elsewhere
    ):
        _account, client = kobo_account
        row = central_row(due.application_id, origin=elsewhere.origin, photos=["a.jpg"])
        answer = post(client, row)
        assert answer.status_code == 422 and answer.json()["code"] == "photo_host_not_allowed"
        assert elsewhere.requests == [] and central.requests == []

    @pytest.mark.parametrize(("project", "form"), [(8, "monitoring_visit"), (7, "household_survey")])
    def test_a_row_of_another_project_or_form_is_refused(
        self, world, kobo_account, due, central, project, form
    ):
        _account, client = kobo_account
        row = central_row(
            due.application_id, origin=central.origin, photos=["a.jpg"], project=project, form=form
        )
        answer = post(client, row)
        assert answer.status_code == 422 and answer.json()["code"] == "photo_other_form"
        assert central.requests == []

    def test_a_redirect_away_from_central_is_not_followed(self, world, kobo_account, due, central, elsewhere):
        _account, client = kobo_account
        row = central_row(due.application_id, origin=central.origin, photos=["a.jpg"])
        central.redirects[central_path(row["__id"], "a.jpg")] = f"{elsewhere.origin}/latest/meta-data/"
        answer = post(client, row)
        assert answer.status_code == 422 and answer.json()["code"] == "photo_host_not_allowed"
        assert elsewhere.requests == []

    def test_a_file_name_that_is_a_path_is_refused_and_nothing_is_fetched(
        self, world, kobo_account, due, central
    ):
        _account, client = kobo_account
        row = central_row(due.application_id, origin=central.origin, photos=["../../../users/current"])
        answer = post(client, row)
        assert answer.status_code == 422 and answer.json()["code"] == "invalid_data"
        assert "photo_1" in answer.json()["detail"]
        assert central.requests == []

    def test_a_wrong_token_is_refused_and_kept_until_a_person_applies_it_again(
        self, world, kobo_account, due, central, settings
    ):
        account, client = kobo_account
        settings.INTAKE_CENTRAL_TOKEN = "expired-session-token"
        row = central_row(due.application_id, origin=central.origin, photos=["a.jpg"])
        path = central_path(row["__id"], "a.jpg")
        central.files[path] = ("image/jpeg", jpeg())

        answers = [post(client, row) for _ in range(2)]

        assert [a.status_code for a in answers] == [422, 422]
        assert answers[0].json()["code"] == "photo_token_refused"
        assert "expired-session-token" not in answers[0].content.decode()
        assert central.requests == [(path, "Bearer expired-session-token")]  # the second post fetches nothing
        due.refresh_from_db()
        assert due.visited_on is None
        submission = FormSubmission.objects.get()
        assert submission.status == "refused" and submission.reason_code == "photo_token_refused"
        assert AuditEvent.objects.filter(action="form_submission_refused").count() == 1

        settings.INTAKE_CENTRAL_TOKEN = "central-session-token"
        fixed = APIClient_for(world.officer).post(
            f"/api/v1/intake/submissions/{submission.pk}/reapply/",
            {"application": due.application_id, "months": 3},
            format="json",
        )

        assert fixed.status_code == 200, fixed.content
        assert fixed.json()["status"] == "recorded"
        due.refresh_from_db()
        assert due.visited_on == TODAY and due.recorded_by == account.user
        assert Document.objects.filter(application=due.application, kind=DocumentKind.PHOTO).count() == 1

    def test_a_central_shaped_row_without_its_id_has_no_photo_to_fetch(
        self, world, kobo_account, due, central
    ):
        _account, client = kobo_account
        row = central_row(due.application_id, origin=central.origin, photos=["a.jpg"])
        del row["__id"]
        answer = post(client, row)
        assert answer.status_code == 422 and answer.json()["code"] == "photo_missing"
        assert central.requests == []
