import threading

import pyotp
import pytest
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from applicants import roles
from demo.seed import DEMO_TOTP_SECRET

from .factories import (
    ApplicantFactory,
    ApplicationFactory,
    CentreFactory,
    CountryFactory,
    ProgrammeFactory,
    staff,
)


@pytest.fixture(autouse=True)
def _isolated_services(settings, tmp_path):
    """Each test: local files in its own folder, tasks run at once, mail kept in memory."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    settings.STORAGE_BACKEND = "local"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.AXES_ENABLED = False
    # The duplicate-check counters outlive a test in the cache, and ids are reused after
    # a rollback: only the tests of the limit (tests/test_disclosure.py) set a low one.
    settings.DUPLICATE_CHECKS_PER_WINDOW = 100_000
    # Likewise the complaint form's limits per address (tests/test_complaints.py sets low ones).
    settings.COMPLAINT_FORM_LIMIT = settings.COMPLAINT_FOLLOW_UP_LIMIT = 100_000
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield
    # A page requested in Albanian leaves Albanian active in the thread (LocaleMiddleware
    # does not reset it): the next test's messages would be read in it.
    translation.deactivate()


def on_postgres():
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    if on_postgres():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def otp_now():
    return pyotp.TOTP(DEMO_TOTP_SECRET).now()


class World:
    """Two centres in two countries, with a person of every role, as the demo has."""

    def __init__(self):
        self.serbia = CountryFactory(code="RS", name="Serbia")
        self.kosovo = CountryFactory(code="XK", name="Kosovo")
        self.centre = CentreFactory(country=self.serbia, name="Integration Centre Niš")
        self.other_centre = CentreFactory(country=self.kosovo, name="Integration Centre Prizren")
        self.programme = ProgrammeFactory(country=self.serbia)
        self.other_programme = ProgrammeFactory(country=self.kosovo)
        self.officer = staff(roles.FIELD_OFFICER, self.centre, username="officer")
        self.officer2 = staff(roles.FIELD_OFFICER, self.other_centre, username="officer2")
        self.colleague = staff(roles.FIELD_OFFICER, self.centre, username="colleague")
        self.manager = staff(roles.PROGRAMME_MANAGER, self.centre, self.other_centre, username="manager")
        self.finance = staff(roles.FINANCE_OFFICER, self.centre, self.other_centre, username="finance")
        self.auditor = staff(roles.AUDITOR, self.centre, self.other_centre, username="auditor")
        self.procurement = staff(
            roles.PROCUREMENT_OFFICER, self.centre, self.other_centre, username="procurement"
        )
        self.person = ApplicantFactory(
            centre=self.centre, with_user=True, first_name="Marko", last_name="Demić"
        )
        self.person2 = ApplicantFactory(
            centre=self.other_centre, with_user=True, first_name="Arta", last_name="Demaj"
        )
        self.applicant = self.person.user
        self.applicant2 = self.person2.user

    def application(self, **kwargs):
        kwargs.setdefault("applicant", self.person)
        kwargs.setdefault("programme", self.programme)
        kwargs.setdefault("assigned_officer", self.officer)
        return ApplicationFactory(**kwargs)


@pytest.fixture
def world(db):
    return World()


@pytest.fixture
def api():
    def client_for(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


def verified_login(client, user):
    """Log `user` in to the browser client as after both sign-in steps: the password,
    and for staff the TOTP code (a confirmed device, named in the session as django-otp
    does). Staff logged in with a bare `client.force_login` are sent to the code page."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from applicants.roles import is_staff_account
    from demo.seed import totp_key_hex

    client.force_login(user)
    if is_staff_account(user):
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", key=totp_key_hex(), confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def admin_for(user):
    """A browser client signed in to the admin as `user` (made `is_staff`)."""
    from django.test import Client

    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    verified_login(client, user)
    return client


def anonymous_training_cohort(world, *, title, session_dates):
    """A cohort of `world.programme`, which now counts participants without names."""
    from assessments import services

    world.programme.anonymous_training = True
    world.programme.save(update_fields=["anonymous_training"])
    return services.create_cohort(
        by=world.officer,
        programme=world.programme,
        centre=world.centre,
        title=title,
        session_dates=session_dates,
    )


def run_at_once(calls, timeout=120):
    """Each call in its own thread and database connection, released together by a
    barrier; returns each call's result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - the outcome under test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results
