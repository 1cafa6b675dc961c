"""The schema is good enough to generate a client from (issue 22): `openapi-python-client`,
a tool no one here wrote, generates a Python client from the served /api/v1/schema/; the
test imports every module of it and walks one application from draft to completed
against a live server with it alone: signing in, JSON bodies, the upload, the steps. No
request here is written by hand: when the schema lies, the generated client breaks."""

import datetime
import importlib
import io
import pkgutil
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo.seed import totp_key_hex

from .browser import fixtures
from .conftest import otp_now
from .factories import PDF_BYTES

# The browser tests' live server (MEDIA_URL set for its thread); a module-scoped server.
live_server = fixtures.live_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PASSWORD = "correct horse battery"
PACKAGE = "grants_api_client"


def generator():
    """The generator beside this interpreter (requirements-dev.txt), or on the PATH."""
    beside = Path(sys.executable).with_name("openapi-python-client")
    found = str(beside) if beside.exists() else shutil.which("openapi-python-client")
    assert found, "openapi-python-client is not installed: make install (requirements-dev.txt)"
    return found


@pytest.fixture
def client_package(live_server, tmp_path):
    """Generate the client from the schema the live server serves, and import all of it."""
    output = tmp_path / PACKAGE
    # Fetched here, not by the generator: its own fetch gives up after 5 seconds, and a
    # busy machine builds the schema more slowly than that the first time.
    schema = tmp_path / "schema.yaml"
    with urllib.request.urlopen(f"{live_server.url}/api/v1/schema/", timeout=120) as served:
        schema.write_bytes(served.read())
    result = subprocess.run(
        [generator(), "generate", "--path", str(schema), "--output-path", str(output), "--meta", "none"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    sys.path.insert(0, str(tmp_path))
    try:
        package = importlib.import_module(PACKAGE)
        modules = [m.name for m in pkgutil.walk_packages(package.__path__, f"{PACKAGE}.")]
        for name in modules:
            importlib.import_module(name)
        assert len(modules) > 100
        yield package
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def imported(name):
    return importlib.import_module(f"{PACKAGE}.{name}")


def ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.content[:500])
    return response.parsed


def sign_in(live_server, user):
    """POST auth/token/ through the generated client, with a TOTP code for staff."""
    package = importlib.import_module(PACKAGE)
    token_create = imported("api.auth.auth_token_create")
    TokenRequestRequest = imported("models").TokenRequestRequest
    TOTPDevice.objects.get_or_create(
        user=user, name="phone", defaults={"key": totp_key_hex(), "confirmed": True}
    )
    anonymous = package.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    token = ok(
        token_create.sync_detailed(
            client=anonymous,
            body=TokenRequestRequest(username=user.username, password=PASSWORD, otp=otp_now(), device="sync"),
        )
    )
    return package.AuthenticatedClient(
        base_url=live_server.url, token=token.token, prefix="Token", raise_on_unexpected_status=True
    )


def test_a_generated_client_walks_an_application_from_draft_to_completed(
    client_package, live_server, world, settings
):
    # The whole life in one day: every visit's window opens today (tests/test_visits_window.py).
    settings.VISIT_EARLY_MARGIN_DAYS = 400
    models = imported("models")
    api = {
        name: imported(f"api.{name}")
        for name in (
            "applicants.applicants_create",
            "applications.applications_create",
            "applications.applications_retrieve",
            "applications.applications_transitions_create",
            "applications.applications_transitions_list",
            "applications.applications_assessment_create",
            "applications.applications_deliveries_create",
            "applications.applications_documents_create",
            "applications.applications_visits_list",
            "applications.applications_history_list",
            "cohorts.cohorts_create",
            "cohorts.cohorts_enrollments_create",
            "cohorts.cohorts_attendance_create",
            "visits.visits_record_create",
            "me.me_retrieve",
        )
    }
    File = client_package.types.File
    officer = sign_in(live_server, world.officer)
    manager = sign_in(live_server, world.manager)
    finance = sign_in(live_server, world.finance)
    today = timezone.localdate()
    assert ok(api["me.me_retrieve"].sync_detailed(client=officer)).username == world.officer.username

    person = ok(
        api["applicants.applicants_create"].sync_detailed(
            client=officer,
            body=models.ApplicantCreateRequest.from_dict(
                {
                    "first_name": "Dragana",
                    "last_name": "Ilić",
                    "date_of_birth": "1988-06-15",
                    "phone": "064 555 1234",
                    "centre": world.centre.pk,
                    "target_groups": ["returnee"],
                    "consent_given": True,
                    "special_consents": ["return"],
                }
            ),
        ),
        201,
    )
    assert person.phone == "+381645551234"

    draft = ok(
        api["applications.applications_create"].sync_detailed(
            client=officer,
            body=models.ApplicationCreateRequest.from_dict(
                {
                    "programme": world.programme.pk,
                    "applicant": person.id,
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
                }
            ),
            idempotency_key="draft-ilic-1",
        ),
        201,
    )
    assert (str(draft.state), draft.requested_total) == ("draft", "2150.50")
    pk = draft.id
    take = api["applications.applications_transitions_create"]

    def step(client, name, comment=""):
        application = ok(
            take.sync_detailed(
                pk,
                take.ApplicationsTransitionsCreateName(name),
                client=client,
                body=models.TransitionTakeRequest(comment=comment),
            )
        )
        return str(application.state)

    assert step(officer, "submit") == "submitted"
    cohort = ok(
        api["cohorts.cohorts_create"].sync_detailed(
            client=officer,
            body=models.CohortCreateRequest.from_dict(
                {
                    "programme": world.programme.pk,
                    "centre": world.centre.pk,
                    "title": "Start your business",
                    "sessions": [
                        {"date": str(today - datetime.timedelta(days=days))} for days in (21, 14, 7, 3, 1)
                    ],
                }
            ),
        ),
        201,
    )
    ok(
        api["cohorts.cohorts_enrollments_create"].sync_detailed(
            cohort.id, client=officer, body=models.EnrolmentRequest(application=pk)
        ),
        201,
    )
    assert step(officer, "admit_to_training") == "business_training"
    for session in cohort.sessions:
        ok(
            api["cohorts.cohorts_attendance_create"].sync_detailed(
                cohort.id,
                client=officer,
                body=models.AttendanceRequest(session=session.id, application=pk, present=True),
            ),
            201,
        )

    approve = next(
        t
        for t in ok(api["applications.applications_transitions_list"].sync_detailed(pk, client=manager))
        if str(t.name) == "approve"
    )
    assert approve.allowed is False

    assessment = ok(
        api["applications.applications_assessment_create"].sync_detailed(
            pk,
            client=officer,
            body=models.AssessmentInRequest.from_dict(
                {
                    "scores": {"viability": 4, "skills": 5, "market": 4, "need": 5, "commitment": 4},
                    "recommendation": "approve",
                    "comment": "Premises ready, strong experience.",
                }
            ),
        ),
        201,
    )
    assert assessment.weighted_score == "4.35"
    assert step(manager, "approve", "Committee approved.") == "approved"

    items = ok(api["applications.applications_retrieve"].sync_detailed(pk, client=officer)).items
    ok(
        api["applications.applications_deliveries_create"].sync_detailed(
            pk,
            client=finance,
            body=models.DeliveryRequest.from_dict(
                {
                    "delivered_on": str(today),
                    "supplier": "Pekarska oprema d.o.o.",
                    "invoice_number": "2026-0042",
                    "lines": [
                        {"item": item.id, "quantity": 1, "actual_unit_cost": item.unit_cost} for item in items
                    ],
                }
            ),
        ),
        201,
    )
    document = ok(
        api["applications.applications_documents_create"].sync_detailed(
            pk,
            client=finance,
            body=models.DocumentUploadRequest(
                kind=models.KindEnum("handover_protocol"),
                file=File(
                    payload=io.BytesIO(PDF_BYTES),
                    file_name="handover-signed.pdf",
                    mime_type="application/pdf",
                ),
            ),
        ),
        201,
    )
    assert document.original_name == "handover-signed.pdf"
    application = ok(api["applications.applications_retrieve"].sync_detailed(pk, client=officer))
    assert str(application.state) == "equipment_delivered"

    assert step(officer, "start_follow_up") == "follow_up"
    visits = ok(api["applications.applications_visits_list"].sync_detailed(pk, client=officer)).results
    assert [visit.months for visit in visits] == [3, 6, 12]
    for visit in visits:
        ok(
            api["visits.visits_record_create"].sync_detailed(
                visit.id,
                client=officer,
                body=models.VisitRecordRequest.from_dict(
                    {
                        "visited_on": str(today),
                        "operating": True,
                        "equipment_in_use": True,
                        "monthly_revenue": "950.00",
                        "jobs": {"owner": 1, "family": 1, "employees": 0},
                        "notes": "Oven in daily use.",
                    }
                ),
            )
        )
    assert step(officer, "complete") == "completed"

    history = ok(api["applications.applications_history_list"].sync_detailed(pk, client=officer)).results
    assert [(h.action, h.from_state, h.to_state) for h in history if h.from_state != h.to_state][-1] == (
        "complete",
        "follow_up",
        "completed",
    )
