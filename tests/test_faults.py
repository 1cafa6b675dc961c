"""Faults and load: the database failing halfway through a request leaves nothing behind
and answers 503; on PostgreSQL, twenty simultaneous takes of one transition give one
success and nineteen 409s; two gunicorn processes approving at once never exceed a
budget; and a database that goes away (a TCP proxy we cut) gives 503s with a clear
message, no partial writes, and service resumes by itself when it is back."""

import contextlib
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.db import OperationalError, connection
from django.test import Client
from rest_framework.test import APIClient

from applicants import roles
from applicants.models import Applicant
from audit import trail
from bench.soak.topology import Gate, free_port
from grants.models import AuditEvent, Commitment, EquipmentItem, GrantApplication

from .conftest import run_at_once, verified_login
from .factories import ApplicantFactory, api_key, staff

BASE_DIR = Path(django_settings.BASE_DIR)
DATABASE_AWAY = "The database is not reachable right now. Nothing was saved; try again shortly."


class FailOn:
    """A query wrapper that loses the database at the first statement matching `sql`."""

    def __init__(self, sql):
        self.sql = sql
        self.tripped = False

    def __call__(self, execute, sql, params, many, context):
        if self.sql in sql:
            self.tripped = True
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)


@pytest.mark.django_db
class TestDatabaseLostHalfway:
    def test_a_draft_half_written_is_not_kept(self, world, api):
        before = (GrantApplication.objects.count(), EquipmentItem.objects.count(), AuditEvent.objects.count())
        body = {
            "programme": world.programme.pk,
            "business_name": "Village bakery",
            "sector": "food",
            "items": [{"description": "Bakery oven", "quantity": 1, "unit_cost": "1450.00"}],
        }
        # The application and its items are written; the audit row is where it fails.
        failure = FailOn('INSERT INTO "grants_auditevent"')
        with connection.execute_wrapper(failure):
            response = api(world.applicant).post("/api/v1/applications/", body, format="json")
        assert failure.tripped
        assert response.status_code == 503
        assert response.json() == {"detail": DATABASE_AWAY, "code": "database_unavailable"}
        after = (GrantApplication.objects.count(), EquipmentItem.objects.count(), AuditEvent.objects.count())
        assert after == before
        assert trail.verify_chain()[2] == []

    def test_a_transition_half_done_is_not_kept(self, world, api):
        app = world.application(submitted=True)
        failure = FailOn('INSERT INTO "grants_auditevent"')
        with connection.execute_wrapper(failure):
            response = api(world.officer).post(
                f"/api/v1/applications/{app.pk}/transitions/reject/",
                {"comment": "Not eligible."},
                format="json",
            )
        assert response.status_code == 503
        app.refresh_from_db()
        assert (app.state, app.closing_reason) == ("submitted", "")

    def test_a_page_answers_503_when_sessions_cannot_be_read(self, world):
        browser = Client(raise_request_exception=False)
        verified_login(browser, world.officer)
        with connection.execute_wrapper(FailOn('FROM "django_session"')):
            response = browser.get("/")
        assert response.status_code == 503
        assert response["Retry-After"] == "10"
        assert DATABASE_AWAY in response.content.decode()

    def test_an_unexpected_error_at_the_api_is_a_json_500(self, world, monkeypatch):
        from grants import api as grants_api

        def broken(*args, **kwargs):
            raise RuntimeError("bug")

        monkeypatch.setattr(grants_api.selectors, "application_list", broken)
        client = APIClient(raise_request_exception=False)
        client.force_authenticate(world.officer)
        response = client.get("/api/v1/applications/")
        assert response.status_code == 500
        assert response.json()["detail"].startswith("Something went wrong")


# ---- PostgreSQL: threads, processes, a database that goes away ----------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_taking_one_transition_give_one_success_and_409s(world):
    app = world.application(submitted=True)
    officers = [world.officer, world.colleague]

    def reject(user):
        def call():
            client = APIClient()
            client.force_authenticate(user)
            response = client.post(
                f"/api/v1/applications/{app.pk}/transitions/reject/",
                {"comment": "Not eligible."},
                format="json",
            )
            return response.status_code, response.json()["detail"] if response.status_code != 200 else ""

        return call

    results = run_at_once([reject(officers[i % 2]) for i in range(20)])
    codes = sorted(code for code, _detail in results)
    assert codes == [200] + [409] * 19
    assert all("no longer possible" in detail for code, detail in results if code == 409)
    app.refresh_from_db()
    assert app.state == "rejected"
    assert AuditEvent.objects.filter(application=app, action="reject").count() == 1
    assert trail.verify_chain()[2] == []


def database_url(port=None):
    db = connection.settings_dict
    return f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{port or db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def gunicorn(tmp_path, *, database, count=1):
    """`gunicorn config.wsgi -w 1` processes on free loopback ports, on `database`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(
        DATABASE_URL=database,
        DEBUG="0",
        MEDIA_ROOT=str(tmp_path / "media"),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.pop("SECRET_KEY", None)
    processes, urls = [], []
    try:
        for _ in range(count):
            port = free_port()
            log = open(tmp_path / f"gunicorn-{port}.log", "wb")  # noqa: SIM115 - closed with the process
            command = [sys.executable, "-m", "gunicorn", "config.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}"]
            process = subprocess.Popen(
                [*command, "--timeout", "60", "--graceful-timeout", "2"],
                cwd=BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            processes.append((process, log))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_until(lambda url=url: requests.get(f"{url}/api/v1/schema/", timeout=2).status_code == 200)
        yield urls
    finally:
        for process, log in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def wait_until(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_two_gunicorn_processes_approving_at_once_never_exceed_the_budget(world, tmp_path):
    applications = [
        world.application(ready=True, applicant=ApplicantFactory(centre=world.centre)) for _ in range(10)
    ]
    amount = applications[0].compute_requested_total()
    world.programme.budget = amount * 4 + Decimal("100.00")
    world.programme.save()
    second_manager = staff(roles.PROGRAMME_MANAGER, world.centre, username="manager_b")
    tokens = [api_key(u) for u in (world.manager, second_manager)]

    with gunicorn(tmp_path, database=database_url(), count=2) as urls:

        def approve(index, app):
            def call():
                response = requests.post(
                    f"{urls[index % 2]}/api/v1/applications/{app.pk}/transitions/approve/",
                    json={"comment": "Committee approved."},
                    headers={"Authorization": f"Token {tokens[index % 2]}"},
                    timeout=60,
                )
                return response.status_code, response.json()

            return call

        results = run_at_once([approve(i, app) for i, app in enumerate(applications)])

    codes = [code for code, _body in results]
    assert codes.count(200) == 4, results
    assert codes.count(400) == 6, results
    assert all(body["rules"][0]["code"] == "budget_left" for code, body in results if code == 400)
    active = Commitment.objects.filter(programme=world.programme, status=Commitment.Status.ACTIVE)
    assert active.count() == 4
    assert sum(c.amount for c in active) <= world.programme.budget
    assert GrantApplication.objects.filter(pk__in=[a.pk for a in applications], state="approved").count() == 4
    assert trail.verify_chain()[2] == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_database_going_away_gives_503_and_service_resumes(world, tmp_path):
    token = api_key(world.officer)
    headers = {"Authorization": f"Token {token}"}
    proxy = Gate(int(connection.settings_dict["PORT"] or 5432))
    proxy.open()
    registration = {
        "first_name": "Ana",
        "last_name": "Proxytest",
        "date_of_birth": "1990-01-01",
        "centre": world.centre.pk,
        "target_groups": ["returnee"],
        "consent_given": True,
        "special_consents": ["return"],
    }
    try:
        with gunicorn(tmp_path, database=database_url(proxy.port)) as (url,):
            assert requests.get(f"{url}/api/v1/applications/", headers=headers, timeout=10).status_code == 200
            assert requests.get(f"{url}/healthz", timeout=10).json() == {"database": "ok", "storage": "ok"}

            browser = requests.Session()
            assert browser.get(f"{url}/accounts/login/", timeout=30).status_code == 200

            proxy.close()
            listing = requests.get(f"{url}/api/v1/applications/", headers=headers, timeout=30)
            assert listing.status_code == 503
            assert listing.json() == {"detail": DATABASE_AWAY, "code": "database_unavailable"}
            assert listing.headers["Retry-After"] == "10"
            write = requests.post(f"{url}/api/v1/applicants/", json=registration, headers=headers, timeout=30)
            assert write.status_code == 503
            health = requests.get(f"{url}/healthz", timeout=30)
            assert health.status_code == 503
            assert health.json()["database"].startswith("unavailable") and health.json()["storage"] == "ok"
            sign_in = browser.post(
                f"{url}/accounts/login/",
                data={
                    "username": "officer",
                    "password": "x",
                    "csrfmiddlewaretoken": browser.cookies["csrftoken"],
                },
                headers={"Referer": f"{url}/accounts/login/"},
                timeout=30,
            )
            assert sign_in.status_code == 503
            assert DATABASE_AWAY in sign_in.text
            assert not Applicant.objects.filter(last_name="Proxytest").exists()

            proxy.open()
            wait_until(
                lambda: (
                    requests.get(f"{url}/api/v1/applications/", headers=headers, timeout=10).status_code
                    == 200
                )
            )
            created = requests.post(
                f"{url}/api/v1/applicants/", json=registration, headers=headers, timeout=30
            )
            assert created.status_code == 201, created.text
            assert Applicant.objects.filter(last_name="Proxytest").count() == 1
    finally:
        proxy.close()
