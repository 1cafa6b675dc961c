"""Data built once for a whole test module, for tests that only read it or whose writes
are undone: the module's rows are written inside a transaction that is rolled back when
the module ends, and each test runs in a savepoint of its own (pytest-django's `db`),
so nothing a test does is seen by the next one.

Files go to the module's own folder, which the tests keep using (the world outlives a
test, and conftest points each test at a fresh folder otherwise)."""

from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings


def local_storage(media):
    return {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media)},
        },
    }


@contextmanager
def module_world(django_db_blocker, media, build):
    """Yield `build()`'s result, built in a transaction rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(
            STORAGES=local_storage(media),
            MEDIA_ROOT=str(media),
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ):
            world = build()
        yield world
        transaction.set_rollback(True)


def use_module_media(settings_fixture, media):
    """Point this test's storage at the module's folder (call from an autouse fixture)."""
    settings_fixture.STORAGES = local_storage(media)
    settings_fixture.STORAGE_BACKEND = "local"
    settings_fixture.MEDIA_ROOT = str(media)
