"""API v1 as field apps use it (docs/api.md): one application from draft to completed with a
token per role, the history of every step, and the error conventions."""

import datetime
import io

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from demo.seed import totp_key_hex
from grants.models import AuditEvent, GrantApplication

from .conftest import otp_now
from .factories import PDF_BYTES, ApplicantFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


def token_client(user, *, otp=True):
    """Log in the way a field app does: POST auth/token/, then `Authorization: Token`."""
    if otp:
        TOTPDevice.objects.get_or_create(
            user=user, name="phone", defaults={"key": totp_key_hex(), "confirmed": True}
        )
    client = APIClient()
    body = {"username": user.username, "password": PASSWORD}
    if otp:
        body["otp"] = otp_now()
    response = client.post("/api/v1/auth/token/", body, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.json()


def test_one_application_from_draft_to_completed(world, settings):
    # The whole life in one day: every visit's window opens today (tests/test_visits_window.py).
    settings.VISIT_EARLY_MARGIN_DAYS = 400
    officer = token_client(world.officer)
    manager = token_client(world.manager)
    finance = token_client(world.finance)
    today = timezone.localdate()

    person = ok(
        officer.post(
            "/api/v1/applicants/",
            {
                "first_name": "Dragana",
                "last_name": "Ilić",
                "date_of_birth": "1988-06-15",
                "phone": "064 555 1234",
                "centre": world.centre.pk,
                "target_groups": ["returnee"],
                "consent_given": True,
                "special_consents": ["return"],
            },
            format="json",
        ),
        201,
    )
    assert person["phone"] == "+381645551234"
    assert person["possible_duplicates"] == []

    app = ok(
        officer.post(
            "/api/v1/applications/",
            {
                "programme": world.programme.pk,
                "applicant": person["id"],
                "business_name": "Bakery Ilić",
                "sector": "food",
                "plan": {
                    "activity": "Bread and pastries",
                    "market": "Village shops",
                    "experience": "Ten years as a baker",
                    "expected_monthly_revenue": "900.00",
                    "expected_monthly_costs": "400.00",
                    "jobs_planned": 2,
                },
                "items": [
                    {"description": "Bakery oven", "quantity": 1, "unit_cost": "1450.00"},
                    {"description": "Dough mixer", "quantity": 1, "unit_cost": "700.50"},
                ],
            },
            format="json",
        ),
        201,
    )
    assert (app["state"], app["requested_total"]) == ("draft", "2150.50")
    pk = app["id"]

    def step(client, name, comment=""):
        return ok(
            client.post(f"/api/v1/applications/{pk}/transitions/{name}/", {"comment": comment}, format="json")
        )

    assert step(officer, "submit")["state"] == "submitted"

    cohort = ok(
        officer.post(
            "/api/v1/cohorts/",
            {
                "programme": world.programme.pk,
                "centre": world.centre.pk,
                "title": "Start your business",
                "sessions": [{"date": str(today - datetime.timedelta(days=d))} for d in (21, 14, 7, 3, 1)],
            },
            format="json",
        ),
        201,
    )
    ok(officer.post(f"/api/v1/cohorts/{cohort['id']}/enrollments/", {"application": pk}, format="json"), 201)
    assert step(officer, "admit_to_training")["state"] == "business_training"
    for session in cohort["sessions"]:
        ok(
            officer.post(
                f"/api/v1/cohorts/{cohort['id']}/attendance/",
                {"session": session["id"], "application": pk, "present": True},
                format="json",
            ),
            201,
        )

    transitions = ok(manager.get(f"/api/v1/applications/{pk}/transitions/"))
    approve = next(t for t in transitions if t["name"] == "approve")
    assert approve["allowed"] is False
    assert "assessment" in approve["reason"]

    assessment = ok(
        officer.post(
            f"/api/v1/applications/{pk}/assessment/",
            {
                "scores": {"viability": 4, "skills": 5, "market": 4, "need": 5, "commitment": 4},
                "recommendation": "approve",
                "comment": "Premises ready, strong experience.",
            },
            format="json",
        ),
        201,
    )
    assert assessment["weighted_score"] == "4.35"
    assert step(manager, "approve", "Committee approved.")["state"] == "approved"

    items = ok(officer.get(f"/api/v1/applications/{pk}/"))["items"]
    ok(
        finance.post(
            f"/api/v1/applications/{pk}/deliveries/",
            {
                "delivered_on": str(today),
                "supplier": "Pekarska oprema d.o.o.",
                "invoice_number": "2026-0042",
                "lines": [
                    {"item": i["id"], "quantity": 1, "actual_unit_cost": i["unit_cost"]} for i in items
                ],
            },
            format="json",
        ),
        201,
    )
    assert ok(finance.get(f"/api/v1/applications/{pk}/"))["state"] == "approved"  # protocol still missing
    protocol = io.BytesIO(PDF_BYTES)
    protocol.name = "handover-signed.pdf"
    ok(
        finance.post(
            f"/api/v1/applications/{pk}/documents/", {"kind": "handover_protocol", "file": protocol}
        ),
        201,
    )
    assert ok(officer.get(f"/api/v1/applications/{pk}/"))["state"] == "equipment_delivered"

    assert step(officer, "start_follow_up")["state"] == "follow_up"
    visits = ok(officer.get(f"/api/v1/applications/{pk}/visits/"))["results"]
    assert [v["months"] for v in visits] == [3, 6, 12]
    for visit in visits:
        ok(
            officer.post(
                f"/api/v1/visits/{visit['id']}/record/",
                {
                    "visited_on": str(today),
                    "operating": True,
                    "equipment_in_use": True,
                    "monthly_revenue": "950.00",
                    "jobs": {"owner": 1, "family": 1, "employees": 0},
                    "notes": "Oven in daily use.",
                },
                format="json",
            )
        )
    assert step(officer, "complete")["state"] == "completed"

    history = ok(officer.get(f"/api/v1/applications/{pk}/history/"))["results"]
    transitions_taken = [
        (h["action"], h["from_state"], h["to_state"])
        for h in history
        if h["from_state"] not in ("", h["to_state"])
    ]
    assert transitions_taken == [
        ("submit", "draft", "submitted"),
        ("admit_to_training", "submitted", "business_training"),
        ("approve", "business_training", "approved"),
        ("record_delivery", "approved", "equipment_delivered"),
        ("start_follow_up", "equipment_delivered", "follow_up"),
        ("complete", "follow_up", "completed"),
    ]
    actions = [h["action"] for h in history]
    for expected in ("create", "enrolled", "assessed", "delivery", "document_uploaded", "visit_recorded"):
        assert expected in actions
    submit = next(h for h in history if h["action"] == "submit")
    assert submit["actor"] == "officer"
    assert submit["on_behalf_of"] == "Dragana Ilić"
    approve_event = next(h for h in history if h["action"] == "approve")
    assert (approve_event["actor"], approve_event["comment"]) == ("manager", "Committee approved.")


class TestAuthentication:
    def test_it_refuses_an_anonymous_caller_with_401(self, world):
        response = APIClient().get("/api/v1/applications/")
        assert response.status_code == 401
        assert "detail" in response.json()

    def test_staff_need_the_current_otp_code(self, world):
        TOTPDevice.objects.create(user=world.officer, name="phone", key=totp_key_hex(), confirmed=True)
        client = APIClient()
        response = client.post(
            "/api/v1/auth/token/", {"username": "officer", "password": PASSWORD}, format="json"
        )
        assert response.status_code == 400
        assert "two-factor" in response.json()["detail"]
        response = client.post(
            "/api/v1/auth/token/",
            {"username": "officer", "password": PASSWORD, "otp": "000000"},
            format="json",
        )
        assert response.status_code == 400

    def test_a_wrong_password_gets_no_token(self, world):
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": "officer", "password": "nope"}, format="json"
        )
        assert response.status_code == 400
        assert "token" not in response.json()

    def test_an_applicant_without_two_factor_logs_in_with_a_password(self, world):
        client = token_client(world.applicant, otp=False)
        assert client.get("/api/v1/applications/").status_code == 200


class TestErrorConventions:
    def test_another_applicants_application_is_404_everywhere(self, world, api):
        app = world.application()
        client = api(world.applicant2)
        for url in (
            f"/api/v1/applications/{app.pk}/",
            f"/api/v1/applications/{app.pk}/transitions/",
            f"/api/v1/applications/{app.pk}/history/",
            f"/api/v1/applications/{app.pk}/documents/",
            f"/api/v1/applications/{app.pk}/visits/",
            "/api/v1/applications/999999/",
        ):
            response = client.get(url)
            assert response.status_code == 404, url
            assert response.json() == {"detail": "Not found.", "code": "not_found"}
        assert client.post(f"/api/v1/applications/{app.pk}/transitions/submit/").status_code == 404

    def test_a_visible_application_but_a_forbidden_step_is_403(self, world, api):
        app = world.application(submitted=True)
        response = api(world.finance).post(
            f"/api/v1/applications/{app.pk}/transitions/reject/", {"comment": "x"}
        )
        assert response.status_code == 403
        assert response.json()["detail"]

    def test_a_failed_guard_is_400_naming_the_rule(self, world, api):
        app = world.application(items=[])
        response = api(world.applicant).post(
            f"/api/v1/applications/{app.pk}/transitions/submit/", {}, format="json"
        )
        assert response.status_code == 400
        body = response.json()
        assert "equipment item" in body["detail"]
        assert [r["code"] for r in body["rules"]] == ["has_items"]

    def test_a_step_no_longer_possible_is_409(self, world, api):
        app = world.application(submitted=True)
        response = api(world.applicant).post(
            f"/api/v1/applications/{app.pk}/transitions/submit/", {}, format="json"
        )
        assert response.status_code == 409
        assert "no longer possible" in response.json()["detail"]

    def test_an_unknown_transition_is_404(self, world, api):
        app = world.application()
        assert (
            api(world.applicant).post(f"/api/v1/applications/{app.pk}/transitions/teleport/").status_code
            == 404
        )

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"programme": "x", "business_name": "B", "sector": "crafts"}, "programme"),
            ({"programme": 1, "business_name": "B", "sector": "spaceflight"}, "sector"),
            ({"programme": 1, "business_name": "", "sector": "crafts"}, "business_name"),
            (
                {
                    "programme": 1,
                    "business_name": "B",
                    "sector": "crafts",
                    "items": [{"description": "x", "quantity": 1, "unit_cost": "-5"}],
                },
                "items",
            ),
            (
                {
                    "programme": 1,
                    "business_name": "B",
                    "sector": "crafts",
                    "items": [{"description": "x", "quantity": 0, "unit_cost": "5"}],
                },
                "items",
            ),
            (
                {"programme": 1, "business_name": "B", "sector": "crafts", "plan": {"jobs_planned": "many"}},
                "plan",
            ),
        ],
    )
    def test_bad_input_is_400_with_the_field_named(self, world, api, body, field):
        body = {**body, "programme": world.programme.pk if body["programme"] == 1 else body["programme"]}
        before = GrantApplication.objects.count()
        response = api(world.applicant).post("/api/v1/applications/", body, format="json")
        assert response.status_code == 400, response.content
        data = response.json()
        assert data["detail"] and field in data
        assert GrantApplication.objects.count() == before

    def test_malformed_json_is_400_not_500(self, world, api):
        response = api(world.applicant).post(
            "/api/v1/applications/", data="{not json", content_type="application/json"
        )
        assert response.status_code == 400

    def test_a_draft_in_a_closed_call_is_refused(self, world, api):
        world.programme.calls.update(opens=datetime.date(2020, 1, 1), closes=datetime.date(2020, 2, 1))
        response = api(world.applicant).post(
            "/api/v1/applications/",
            {"programme": world.programme.pk, "business_name": "B", "sector": "crafts"},
            format="json",
        )
        assert response.status_code == 400
        assert "not open" in response.json()["detail"]

    def test_money_is_a_string_with_two_places(self, world, api):
        app = world.application()
        data = api(world.applicant).get(f"/api/v1/applications/{app.pk}/").json()
        assert data["requested_total"] == "1100.00"
        assert data["items"][0]["unit_cost"] == "620.00"

    def test_only_a_draft_can_be_edited(self, world, api):
        app = world.application(submitted=True)
        response = api(world.applicant).patch(
            f"/api/v1/applications/{app.pk}/", {"business_name": "Renamed"}, format="json"
        )
        assert response.status_code == 403
        app.refresh_from_db()
        assert app.business_name != "Renamed"

    def test_editing_a_draft_replaces_the_items_and_total(self, world, api):
        app = world.application()
        first = app.items.first()
        response = api(world.applicant).patch(
            f"/api/v1/applications/{app.pk}/",
            {
                "items": [
                    {"id": first.pk, "description": "Sewing machine", "quantity": 2, "unit_cost": "600.00"}
                ]
            },
            format="json",
        )
        data = response.json()
        assert response.status_code == 200, data
        assert data["requested_total"] == "1200.00"
        assert [i["id"] for i in data["items"]] == [first.pk]
        assert AuditEvent.objects.filter(application=app, action="edit").count() == 1


class TestLists:
    def test_the_list_is_paginated_and_filtered(self, world, api):
        for _ in range(3):
            world.application()
        world.application(submitted=True, business_name="Goat farm Shala")
        world.application(
            applicant=ApplicantFactory(centre=world.other_centre), programme=world.other_programme
        )
        data = api(world.officer).get("/api/v1/applications/").json()
        assert set(data) == {"count", "next", "previous", "results"}
        assert data["count"] == 4
        assert api(world.officer).get("/api/v1/applications/?state=submitted").json()["count"] == 1
        assert api(world.officer).get("/api/v1/applications/?q=goat").json()["count"] == 1
        assert api(world.officer2).get("/api/v1/applications/").json()["count"] == 1
        assert api(world.manager).get("/api/v1/applications/").json()["count"] == 5

    def test_the_applicant_sees_only_their_own(self, world, api):
        mine = world.application()
        world.application(applicant=ApplicantFactory(centre=world.centre))
        data = api(world.applicant).get("/api/v1/applications/").json()
        assert [r["id"] for r in data["results"]] == [mine.pk]

    @pytest.mark.parametrize("rows", [3, 30])
    def test_the_list_takes_a_bounded_number_of_queries(
        self, world, api, rows, django_assert_max_num_queries
    ):
        for _ in range(rows):
            world.application()
        client = api(world.officer)
        with django_assert_max_num_queries(8):
            response = client.get("/api/v1/applications/")
        assert response.json()["count"] == rows

    def test_the_auditor_gets_403_on_applications(self, world, api):
        assert api(world.auditor).get("/api/v1/applications/").status_code == 403

    def test_programmes_show_the_rubric_and_call(self, world, api):
        data = api(world.applicant).get("/api/v1/programmes/").json()
        assert [p["id"] for p in data["results"]] == [world.programme.pk]
        programme = data["results"][0]
        assert programme["call_open"] is True
        assert [c["criterion"] for c in programme["rubric"]] == [
            "viability",
            "skills",
            "market",
            "need",
            "commitment",
        ]
        assert programme["ceiling"] == "3000.00"


def test_healthz_reports_database_and_storage(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "storage": "ok"}


def test_the_schema_and_docs_are_served_without_a_cdn(client, db):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
