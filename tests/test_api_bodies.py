"""Request bodies (docs/api.md, "Request bodies"): the schema advertises JSON, multipart
for uploads only; form-encoded and multipart bodies elsewhere are still read until the
sunset, with `Deprecation` and `Sunset` headers; a body that does not parse as its content
type says is a 400 and changes nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from grants.models import AuditEvent, Document

from .factories import api_key

pytestmark = pytest.mark.django_db


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client


def withdraw(client, app, body, content_type):
    return client.generic(
        "POST", f"/api/v1/applications/{app.pk}/transitions/withdraw/", body, content_type=content_type
    )


def test_it_reads_a_form_encoded_step_with_deprecation_headers(world):
    app = world.application(submitted=True)
    response = withdraw(
        token_client(world.applicant), app, "comment=Found+work", "application/x-www-form-urlencoded"
    )
    assert response.status_code == 200, response.content
    assert response["Deprecation"].startswith("@")
    assert response["Sunset"].endswith("GMT")
    assert 'rel="deprecation"' in response["Link"]
    app.refresh_from_db()
    assert app.state == "withdrawn"
    assert AuditEvent.objects.filter(application=app, action="withdraw").get().comment == "Found work"


def test_it_answers_json_without_deprecation_headers(world):
    app = world.application(submitted=True)
    response = withdraw(token_client(world.applicant), app, '{"comment": "Found work"}', "application/json")
    assert response.status_code == 200, response.content
    assert "Deprecation" not in response
    assert "Sunset" not in response


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("garbage without parts", "multipart/form-data; boundary=xyz"),
        ("\x00\x01garbage", "multipart/form-data; boundary=BOUNDARY"),
        ("garbage", "application/x-www-form-urlencoded"),
        ("comment=%FF%FE", "application/x-www-form-urlencoded"),
        ("{not json", "application/json"),
    ],
    ids=["multipart-no-parts", "multipart-binary", "form-no-pairs", "form-not-utf8", "json-broken"],
)
def test_a_body_that_does_not_parse_is_a_400_and_changes_nothing(world, body, content_type):
    app = world.application(submitted=True)
    client = token_client(world.applicant)
    events = AuditEvent.objects.count()
    response = withdraw(client, app, body, content_type)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "parse_error"
    app.refresh_from_db()
    assert app.state == "submitted"
    assert AuditEvent.objects.count() == events


def test_an_empty_form_is_read_as_no_body(world):
    """A form with no field is the closing delimiter alone: what clients (and DRF's test
    client) send for an empty form. Read as no body, with the deprecation headers."""
    app = world.application(submitted=True)
    response = withdraw(
        token_client(world.applicant), app, "--xyz--\r\n", "multipart/form-data; boundary=xyz"
    )
    assert response.status_code == 200, response.content
    assert "Deprecation" in response
    app.refresh_from_db()
    assert app.state == "withdrawn"


def test_an_unknown_content_type_is_a_415_and_changes_nothing(world):
    app = world.application(submitted=True)
    response = withdraw(token_client(world.applicant), app, "comment", "text/plain")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    app.refresh_from_db()
    assert app.state == "submitted"


def test_the_schema_advertises_json_and_multipart_for_uploads_only(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    multipart = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            assert "application/x-www-form-urlencoded" not in content, (method, path)
            if "multipart/form-data" in content:
                multipart.add(path)
                fields = content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
                properties = schema["components"]["schemas"][fields]["properties"]
                assert any(
                    p.get("format") == "binary" or p.get("items", {}).get("format") == "binary"
                    for p in properties.values()
                ), (path, "multipart without a file")
    assert multipart == {
        "/api/v1/applications/{id}/documents/",
        "/api/v1/applications/{id}/quotes/",
        "/api/v1/visits/{id}/record/",
        # (items captured offline: a visit's photos travel with it)
        "/api/v1/field/sync/",
    }


def test_an_upload_with_no_bytes_is_refused_with_its_own_code_and_stores_nothing(world):
    """The schema says an uploaded file has at least one byte; the server answers an empty
    one with `empty`, a code a client can branch on (docs/api.md)."""
    app = world.application()
    response = token_client(world.applicant).post(
        f"/api/v1/applications/{app.pk}/documents/",
        {"kind": "business_plan", "file": SimpleUploadedFile("plan.pdf", b"", "application/pdf")},
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "empty"
    assert "file" in response.json()
    assert not Document.objects.filter(application=app).exists()


def test_the_schema_says_an_uploaded_file_has_a_byte_at_least(client):
    schema = client.get("/api/v1/schema/?format=json").json()["components"]["schemas"]
    for name in ("DocumentUploadRequest", "QuoteUploadRequest"):
        assert schema[name]["properties"]["file"] == {"type": "string", "format": "binary", "minLength": 1}
