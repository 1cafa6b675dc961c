"""Downloads: permission check, audit event, then a presigned URL valid five minutes at
most (S3, fetched here over HTTP) or the file streamed as an attachment (local)."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grants import documents
from grants.models import AuditEvent, Document

from ..factories import DocumentFactory
from .support import documents_url, download_url, pdf

pytestmark = pytest.mark.django_db


def upload(world, application, *, kind="business_plan", name="Biznis plan.pdf", data=None, by=None):
    data = data if data is not None else pdf(kind.encode())
    return documents.upload_document(
        application=application,
        by=by or world.officer,
        kind=kind,
        uploaded_file=SimpleUploadedFile(name, data, "application/pdf"),
    )


def fetch(store, response):
    """What the browser ends up with: the presigned URL followed with an HTTP client on
    S3, the streamed body locally. Returns (bytes, Content-Disposition, Content-Type)."""
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    if store.backend == "s3":
        assert response.status_code == 302
        fetched = requests.get(response["Location"], timeout=10)
        assert fetched.status_code == 200
        return fetched.content, fetched.headers["Content-Disposition"], fetched.headers["Content-Type"]
    assert response.status_code == 200
    assert response.streaming
    return b"".join(response.streaming_content), response["Content-Disposition"], response["Content-Type"]


def downloads(document):
    return AuditEvent.objects.filter(action="document_downloaded", data__document=document.pk)


def test_the_owner_gets_the_file_as_an_attachment_and_it_is_audited(world, api, store):
    app = world.application()
    data = pdf(b"owner")
    document = upload(world, app, data=data)
    response = api(world.applicant).get(download_url(document))
    content, disposition, content_type = fetch(store, response)
    assert content == data
    assert disposition == 'attachment; filename="Biznis plan.pdf"'
    assert content_type == "application/pdf"
    event = downloads(document).get()
    assert (event.actor, event.application, event.data["kind"]) == (world.applicant, app, "business_plan")


def test_a_name_with_quotes_and_accents_stays_one_safe_header(world, api, store):
    app = world.application()
    document = upload(world, app, name='Rešenje "konačno"\r\nX-Evil: 1.pdf')
    assert document.original_name == "Rešenje _konačno_X-Evil_ 1.pdf"
    _content, disposition, _type = fetch(store, api(world.officer).get(download_url(document)))
    assert disposition == "attachment; filename*=utf-8''Re%C5%A1enje%20_kona%C4%8Dno_X-Evil_%201.pdf"


def test_the_presigned_url_is_sigv4_and_lives_five_minutes_at_most(world, api, store, settings):
    if store.backend != "s3":
        pytest.skip("S3 only")
    document = upload(world, world.application())
    for seconds in (300, 60):
        settings.PRESIGNED_URL_SECONDS = seconds
        response = api(world.applicant).get(download_url(document))
        url = urlsplit(response["Location"])
        query = {name: values[0] for name, values in parse_qs(url.query).items()}
        assert url.path == f"/{store.name}/{document.file.name}"
        assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
        assert query["X-Amz-Credential"].endswith("/eu-central-1/s3/aws4_request")
        assert query["X-Amz-SignedHeaders"] == "host"
        assert len(query["X-Amz-Signature"]) == 64
        assert int(query["X-Amz-Expires"]) == seconds <= 300
        # Nothing of SigV2's form.
        assert not {"AWSAccessKeyId", "Signature", "Expires"} & set(query)
        assert query["response-content-disposition"] == 'attachment; filename="Biznis plan.pdf"'
        assert query["response-content-type"] == "application/pdf"


OK = "ok"


@pytest.mark.parametrize(
    ("who", "kind", "answer"),
    [
        ("applicant", "business_plan", OK),
        ("applicant", "release_certificate", OK),
        ("applicant2", "business_plan", 404),
        ("officer", "release_certificate", OK),
        ("colleague", "business_plan", OK),
        ("colleague", "release_certificate", 404),
        ("officer2", "business_plan", 404),
        ("manager", "release_certificate", OK),
        ("finance", "handover_protocol", OK),
        ("finance", "release_certificate", 404),
        ("auditor", "business_plan", 403),
    ],
)
def test_role_by_role(world, api, store, who, kind, answer):
    app = world.application(submitted=True)
    document = upload(world, app, kind=kind)
    response = api(getattr(world, who)).get(download_url(document))
    if answer == OK:
        assert response.status_code == (302 if store.backend == "s3" else 200)
        assert downloads(document).get().actor == getattr(world, who)
    else:
        assert response.status_code == answer
        assert set(response.json()) == {"detail", "code"}  # nothing about the file
        assert "Location" not in response
        assert not downloads(document).exists()


def test_anonymous_gets_401(world, api, store):
    document = upload(world, world.application())
    response = api().get(download_url(document))
    assert response.status_code == 401
    assert not downloads(document).exists()


def test_another_app_server_serves_the_same_file(world, api, store, settings, tmp_path):
    app = world.application()
    data = pdf(b"shared")
    response = api(world.applicant).post(
        documents_url(app),
        {"kind": "business_plan", "file": SimpleUploadedFile("plan.pdf", data, "application/pdf")},
        format="multipart",
    )
    assert response.status_code == 201
    # A fresh storage object, as in another process: only the database and the store are shared.
    settings.STORAGES = {**settings.STORAGES}
    document = Document.objects.get()
    content, _disposition, _type = fetch(store, api(world.officer).get(download_url(document)))
    assert content == data
    if store.backend == "s3":
        assert not (tmp_path / "media").exists()


def test_a_missing_file_is_a_clear_404(world, api, store):
    document = upload(world, world.application())
    store.remove(document.file.name)
    response = api(world.officer).get(download_url(document))
    if store.backend == "s3":
        # The URL is signed without asking S3; S3 itself refuses (404, or 403 to a
        # signer who may not list the bucket).
        assert requests.get(response["Location"], timeout=10).status_code in (403, 404)
    else:
        assert response.status_code == 404
        assert response.json()["detail"] == "The file of this document is missing from the document store."


def test_the_list_hides_certificates_from_those_without_the_sensitive_section(world, api):
    app = world.application(submitted=True)
    DocumentFactory(application=app, kind="business_plan")
    DocumentFactory(application=app, kind="release_certificate")
    kinds = {
        who: sorted(row["kind"] for row in api(getattr(world, who)).get(documents_url(app)).json()["results"])
        for who in ("applicant", "officer", "finance", "colleague")
    }
    assert kinds == {
        "applicant": ["business_plan", "release_certificate"],
        "officer": ["business_plan", "release_certificate"],
        "finance": ["business_plan"],
        "colleague": ["business_plan"],
    }
    assert api(world.applicant2).get(documents_url(app)).status_code == 404


def test_the_list_costs_the_same_queries_for_one_document_or_many(world, api):
    app = world.application()
    client = api(world.officer)
    DocumentFactory(application=app)
    client.get(documents_url(app))  # fills the user's permission caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(documents_url(app)).json()["count"] == 1
    for _ in range(8):
        DocumentFactory(application=app)
    with CaptureQueriesContext(connection) as many:
        assert client.get(documents_url(app)).json()["count"] == 9
    assert len(many) == len(one)
