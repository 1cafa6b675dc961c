"""Faults: the store unreachable or going away mid-upload, the database failing after
the object was written, two uploads of one file at once. Each leaves no row and no
object, and answers with a clear message."""

import errno
import hashlib

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import OperationalError, connection

from grants.models import Document

from ..s3server import Relay, free_port, use_s3
from .support import Folder, assert_nothing_stored, pdf, post_document, uploaded_events

pytestmark = pytest.mark.django_db

STORE_AWAY = "The document store is not reachable; nothing was saved. Try again in a few minutes."


def local_storage(settings, backend, location):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": backend, "OPTIONS": {"location": str(location)}},
    }


def test_an_unreachable_store_is_a_clear_503_and_leaves_nothing(world, api, store, settings, tmp_path):
    if store.backend == "s3":
        use_s3(settings, f"http://127.0.0.1:{free_port()}", store.name, max_attempts=1, connect_timeout=1)
    else:
        (tmp_path / "not-a-folder").write_text("")
        local_storage(
            settings, "django.core.files.storage.FileSystemStorage", tmp_path / "not-a-folder" / "media"
        )
    app = world.application()
    response = post_document(api(world.applicant), app, kind="business_plan", name="plan.pdf", data=pdf())
    assert response.status_code == 503
    assert response.json() == {"detail": STORE_AWAY, "code": "storage_unavailable"}
    # A client (or a proxy) is told when to try again, as for a database away.
    assert response["Retry-After"] == "10"
    assert_nothing_stored(store)


def test_the_s3_endpoint_going_away_in_the_middle_of_an_upload(world, api, store, settings, moto_server):
    if store.backend != "s3":
        pytest.skip("S3 only; the local case is a disk filling up, below")
    relay = Relay(moto_server, cut_after=256 * 1024)
    use_s3(settings, relay.endpoint, store.name, max_attempts=2, connect_timeout=1, read_timeout=5)
    data = pdf(b"x" * 2 * 1024 * 1024)
    response = post_document(
        api(world.applicant), world.application(), kind="business_plan", name="p.pdf", data=data
    )
    assert response.status_code == 503
    assert response.json()["detail"] == STORE_AWAY
    assert relay.cut.is_set()
    assert 256 * 1024 < relay.sent < len(data)
    assert_nothing_stored(store)
    assert store.unfinished_uploads() == []


class DiskFillsUp(FileSystemStorage):
    """Writes the first block, then fails as a full disk does."""

    def _save(self, name, content):
        blocks = content.chunks

        def chunks(chunk_size=None):
            for number, block in enumerate(blocks(chunk_size=64 * 1024)):
                if number == 1:
                    raise OSError(errno.ENOSPC, "No space left on device")
                yield block

        content.chunks = chunks
        return super()._save(name, content)


def test_a_disk_filling_up_halfway_leaves_no_partial_file(world, api, settings):
    local_storage(settings, f"{__name__}.DiskFillsUp", settings.MEDIA_ROOT)
    data = pdf(b"x" * 512 * 1024)
    response = post_document(
        api(world.applicant), world.application(), kind="business_plan", name="p.pdf", data=data
    )
    assert response.status_code == 503
    assert response.json()["detail"] == STORE_AWAY
    assert_nothing_stored(Folder(settings.MEDIA_ROOT))


def test_a_database_failure_after_the_object_was_written_removes_the_object(world, api, store):
    written = []

    def database_goes_away(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "grants_document"'):
            written.extend(store.keys())
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(database_goes_away):
        response = post_document(
            api(world.applicant), world.application(), kind="business_plan", name="p.pdf", data=pdf()
        )
    assert response.status_code == 503
    assert (
        response.json()["detail"]
        == "The database is not reachable right now. Nothing was saved; try again shortly."
    )
    assert len(written) == 1
    assert_nothing_stored(store)


@pytest.mark.django_db(transaction=True)
def test_a_request_that_never_commits_after_the_upload_leaves_no_object(world, store):
    """The upload's own transaction is done, but the request's is not: the database goes
    away while the Idempotency-Key's answer is stored, in the same transaction. The
    request answers 503 "nothing was saved", so the object goes too (the soak found it)."""
    from rest_framework.test import APIClient

    from ..factories import api_key

    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(world.applicant)}", HTTP_IDEMPOTENCY_KEY="k-1")
    app = world.application()
    failure_at = 'UPDATE "integrations_idempotentrequest"'
    tripped = []

    def database_goes_away(execute, sql, params, many, context):
        if sql.startswith(failure_at):
            tripped.extend(store.keys())
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(database_goes_away):
        response = post_document(client, app, kind="business_plan", name="p.pdf", data=pdf())
    assert len(tripped) == 1, "the object was written before the request failed"
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert not Document.objects.filter(application=app).exists()
    assert_nothing_stored(store)

    # The same key again, the database back: it runs afresh and is kept.
    response = post_document(client, app, kind="business_plan", name="p.pdf", data=pdf())
    assert response.status_code == 201
    assert store.keys() == {Document.objects.get(application=app).file.name}


class RacingStorage(FileSystemStorage):
    """While the object is being written, another upload of the same file saves its row."""

    application = None

    def _save(self, name, content):
        digest = hashlib.sha256(b"".join(content.chunks())).hexdigest()
        Document.objects.create(
            application=self.application,
            kind="other",
            file="documents/the-other-upload",
            original_name="same.pdf",
            size=1,
            content_type="application/pdf",
            sha256=digest,
        )
        return super()._save(name, content)


def test_the_same_file_saved_meanwhile_by_another_upload(world, api, settings, monkeypatch):
    app = world.application()
    monkeypatch.setattr(RacingStorage, "application", app)
    local_storage(settings, f"{__name__}.RacingStorage", settings.MEDIA_ROOT)
    response = post_document(api(world.applicant), app, kind="business_plan", name="p.pdf", data=pdf())
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate"
    assert list(app.documents.values_list("file", flat=True)) == ["documents/the-other-upload"]
    assert not uploaded_events().exists()
    assert Folder(settings.MEDIA_ROOT).keys() == set()
