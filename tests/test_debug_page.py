"""The debug page: only `make run`'s server on this computer shows it, and it shows no
secret even there (a database URL's password, keys, tokens, passwords typed in)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client, RequestFactory, override_settings
from django.views.debug import technical_500_response

BASE_DIR = Path(django_settings.BASE_DIR)
PASSWORD = "s3cret-db-pw"
# Typed into the sign-in form of the failing request (kept away from the lines the page quotes).
TYPED = {"username": "ana", "password": "hunter2-typed"}


def start(**env):
    """Load the settings as a server would with this environment; the exit code and stderr."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_", "SECRET_KEY"))}
    base.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL="sqlite:///:memory:", ALLOWED_HOSTS="")
    base.update(env)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=BASE_DIR,
        env={k: v for k, v in base.items() if v is not None},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout.strip(), result.stderr


class TestWhereDebugMayBeOn:
    def test_make_run_has_it_on_this_computer(self):
        assert start(DEBUG="1", ALLOWED_HOSTS="127.0.0.1,localhost,::1")[:2] == (0, "True")
        code, out, _err = start(DEBUG="1", ALLOWED_HOSTS=None)
        assert (code, out) == (0, "True")

    def test_it_refuses_to_start_with_debug_and_a_secret_key(self):
        code, _out, err = start(DEBUG="1", SECRET_KEY="k" * 50, ALLOWED_HOSTS="localhost")
        assert code != 0
        assert "DEBUG=1 is only for the development server on this computer" in err

    def test_it_refuses_to_start_with_debug_for_a_public_host_name(self):
        code, _out, err = start(DEBUG="1", ALLOWED_HOSTS="grants.example.org")
        assert code != 0
        assert "ALLOWED_HOSTS naming only 127.0.0.1, localhost or ::1" in err

    def test_production_without_debug_starts(self):
        assert start(DEBUG="0", SECRET_KEY="k" * 50, ALLOWED_HOSTS="grants.example.org")[:2] == (0, "False")


@pytest.mark.django_db
class TestTheDebugServerAnswersThisComputerOnly:
    """`make run HOST=0.0.0.0` binds every address; a neighbour sending Host: localhost
    must still not reach a page (nor its debug page)."""

    def test_a_request_from_another_computer_is_refused(self):
        with override_settings(DEBUG=True):
            response = Client(REMOTE_ADDR="192.168.1.20").get("/accounts/login/")
        assert response.status_code == 403
        assert response.content == b"This development server (DEBUG=1) answers this computer only."

    @pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
    def test_this_computer_is_answered(self, address):
        with override_settings(DEBUG=True):
            response = Client(REMOTE_ADDR=address).get("/accounts/login/")
        assert response.status_code == 200

    def test_without_debug_the_guard_is_not_there(self):
        response = Client(REMOTE_ADDR="192.168.1.20").get("/accounts/login/")
        assert response.status_code == 200


def debug_page(environ, **local_secrets):
    """The technical 500 page for an error raised with `local_secrets` as local variables,
    on a request carrying `environ` as runserver passes the environment in."""
    request = RequestFactory().post("/accounts/login/", TYPED, **environ)
    request.sensitive_post_parameters = ["password"]
    try:
        database = local_secrets["database"]  # noqa: F841 - shown (or not) by the page
        raise RuntimeError("the view failed")
    except RuntimeError:
        return technical_500_response(request, *sys.exc_info()).content.decode()


ENVIRONMENT = {
    "DATABASE_URL": f"postgres://grants:{PASSWORD}@db.internal:5432/grants",
    "REDIS_URL": "redis://:redis-pw-42@cache:6379/0",
    "SENTRY_DSN": "https://abc123public@o1.ingest.example/9",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-key-value",
    "EMAIL_HOST_PASSWORD": "mail-pw-77",
    "BACKUP_TARGET": "sftp://backup:backup-pw-99@store.example/grants",
}


@override_settings(DEBUG=True, CACHE_URL="redis://:setting-pw-5@cache:6379/1")
def test_the_debug_page_shows_no_secret_from_environment_settings_variables_or_form():
    page = debug_page(ENVIRONMENT, database=f"postgres://grants:{PASSWORD}@db.internal/grants")
    assert "the view failed" in page
    for secret in (
        PASSWORD,
        "redis-pw-42",
        "abc123public",
        "aws-secret-key-value",
        "mail-pw-77",
        "backup-pw-99",
        "setting-pw-5",
        TYPED["password"],
        django_settings.SECRET_KEY,
    ):
        assert secret not in page, secret
    # What is not secret stays readable for whoever debugs.
    assert "sftp://backup:********************@store.example/grants" in page
    assert "the view failed" in page
