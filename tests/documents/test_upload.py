"""Uploads: the type from the content, size limits, generated keys, checksums,
duplicates, and refusals that leave nothing behind. Runs on local files and on S3."""

import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import NotAllowed, NotVisible
from grants import documents
from grants.models import Document, GrantApplication

from .support import (
    EXECUTABLE,
    HTML,
    assert_nothing_stored,
    documents_url,
    docx,
    jpeg,
    multipart,
    odt,
    pdf,
    plain_zip,
    png,
    post_document,
    uploaded_events,
)

pytestmark = pytest.mark.django_db

KEY = re.compile(r"^documents/\d{4}/\d{2}/[0-9a-f]{32}$")


class TestRefusals:
    def test_it_refuses_an_executable_renamed_pdf(self, world, api, store):
        app = world.application()
        response = post_document(
            api(world.applicant), app, kind="business_plan", name="plan.pdf", data=EXECUTABLE
        )
        assert response.status_code == 415
        assert response.json()["code"] == "unsupported_type"
        assert "must be DOCX, ODT, PDF" in response.json()["detail"]
        assert "content, not from its name" in response.json()["detail"]
        assert_nothing_stored(store)

    def test_it_refuses_an_html_page_sent_as_a_pdf(self, world, api, store):
        app = world.application()
        response = post_document(
            api(world.applicant),
            app,
            kind="id_document",
            name="id.pdf",
            data=HTML,
            content_type="application/pdf",
        )
        assert response.status_code == 415
        assert "must be JPG, PDF, PNG" in response.json()["detail"]
        assert_nothing_stored(store)

    def test_it_refuses_an_empty_file(self, world, api, store):
        app = world.application()
        response = post_document(api(world.applicant), app, kind="business_plan", name="plan.pdf", data=b"")
        assert response.status_code == 400
        assert response.json()["detail"] == "The file is empty."
        assert response.json()["file"] == ["The file is empty."]
        assert_nothing_stored(store)

    def test_it_refuses_an_oversize_file(self, world, api, store, settings):
        settings.DOCUMENT_MAX_BYTES = 64 * 1024
        app = world.application()
        data = pdf(b"x" * 200 * 1024)
        response = post_document(api(world.applicant), app, kind="business_plan", name="plan.pdf", data=data)
        assert response.status_code == 413
        assert response.json()["code"] == "too_large"
        assert "64.0 KB" in response.json()["detail"]
        assert_nothing_stored(store)

    def test_it_refuses_a_body_too_large_for_any_document_without_reading_it(self, world, api, store):
        class Unread:
            reads = 0

            def read(self, *args):
                Unread.reads += 1
                raise AssertionError("the body was read")

            readline = read

        app = world.application()
        response = api(world.applicant).generic(
            "POST",
            documents_url(app),
            b"",
            CONTENT_TYPE="multipart/form-data; boundary=x",
            CONTENT_LENGTH=str(500 * 1024 * 1024),
            **{"wsgi.input": Unread()},
        )
        assert response.status_code == 413
        assert "the most any document may be" in response.json()["detail"]
        assert Unread.reads == 0
        assert_nothing_stored(store)

    def test_a_kind_limit_is_checked_before_the_content(self, world, api, store, settings):
        settings.DOCUMENT_MAX_BYTES_PER_KIND = {"photo": 1000}
        app = world.application()
        response = post_document(
            api(world.applicant),
            app,
            kind="photo",
            name="shop.jpg",
            data=b"not an image" * 200,
            content_type="image/jpeg",
        )
        assert response.status_code == 413
        assert response.json()["detail"] == "A photo may be at most 1000 bytes; this file is 2.3 KB."
        assert_nothing_stored(store)
        # Other kinds keep the general limit.
        assert (
            post_document(
                api(world.applicant), app, kind="other", name="a.pdf", data=pdf(b"x" * 2000)
            ).status_code
            == 201
        )

    @pytest.mark.parametrize(
        ("kind", "data", "allowed"),
        [
            ("photo", docx(), "JPG, PNG"),
            ("photo", pdf(), "JPG, PNG"),
            ("business_plan", jpeg(gps=False), "DOCX, ODT, PDF"),
            ("supplier_quote", docx(), "JPG, PDF, PNG"),
            ("other", plain_zip(), "DOCX, JPG, ODT, PDF, PNG"),
            ("photo", b"\xff\xd8\xff\xe0" + b"\x00" * 300, "JPG, PNG"),
        ],
        ids=["docx-as-photo", "pdf-as-photo", "jpeg-as-plan", "docx-as-quote", "zip", "broken-jpeg"],
    )
    def test_each_kind_takes_only_its_types(self, world, api, store, kind, data, allowed):
        app = world.application()
        response = post_document(api(world.officer), app, kind=kind, name="file.pdf", data=data)
        assert response.status_code == 415
        detail = response.json()["detail"]
        assert allowed in detail or "cannot be read" in detail
        assert_nothing_stored(store)

    def test_a_json_body_is_refused_and_the_callers_transaction_stays_usable(self, world, api, store):
        # The view runs outside a request transaction; DRF's rollback mark for the errors
        # it answers must not land on the transaction around it (here: the test's).
        response = api(world.applicant).post(
            documents_url(world.application()), {"kind": "other"}, format="json"
        )
        assert response.status_code == 415
        assert_nothing_stored(store)

    def test_an_unknown_kind_or_no_file_is_a_400(self, world, api, store):
        app = world.application()
        client = api(world.applicant)
        response = post_document(client, app, kind="passport_scan", name="a.pdf", data=pdf())
        assert response.status_code == 400
        assert response.json()["kind"] == ["Choose a document kind from the list."]
        response = client.post(documents_url(app), {"kind": "other"}, format="multipart")
        assert response.status_code == 400
        assert response.json()["file"] == ["Attach a file."]
        assert_nothing_stored(store)


class TestStored:
    def test_it_stores_a_pdf_under_a_generated_key_with_its_checksum(self, world, api, store):
        app = world.application()
        data = pdf(b"plan")
        response = post_document(
            api(world.applicant), app, kind="business_plan", name="Biznis plan.pdf", data=data
        )
        assert response.status_code == 201
        body = response.json()
        document = Document.objects.get()
        assert body["id"] == document.pk
        assert body["download_url"] == f"/api/v1/documents/{document.pk}/download/"
        assert (document.kind, document.original_name, document.content_type, document.size) == (
            "business_plan",
            "Biznis plan.pdf",
            "application/pdf",
            len(data),
        )
        assert document.sha256 == hashlib.sha256(data).hexdigest() == body["sha256"]
        assert document.uploaded_by == world.applicant
        assert document.on_behalf_of is None
        assert KEY.match(document.file.name)
        assert store.keys() == {document.file.name}
        assert store.read(document.file.name) == data
        event = uploaded_events(app).get()
        assert event.actor == world.applicant
        assert event.data == {"document": document.pk, "kind": "business_plan", "sha256": document.sha256}

    def test_a_pdf_named_like_a_path_is_stored_under_a_generated_key(self, world, api, store, tmp_path):
        app = world.application()
        data = pdf(b"passwd")
        body, content_type = multipart(
            {"kind": "business_plan"}, file_field="file", filename="../../etc/passwd.pdf", data=data
        )
        response = api(world.applicant).generic("POST", documents_url(app), body, content_type=content_type)
        assert response.status_code == 201
        document = Document.objects.get()
        assert document.original_name == "passwd.pdf"
        assert KEY.match(document.file.name)
        assert store.keys() == {document.file.name}
        assert not list(tmp_path.rglob("passwd*"))
        assert not (tmp_path / "etc").exists()

    def test_the_service_cleans_a_name_that_never_went_through_a_form(self, world, store):
        app = world.application()
        names = {
            "../../etc/passwd.pdf": "passwd.pdf",
            "..\\..\\windows\\win.pdf": "win.pdf",
            'plan "final"\r\n<x>.pdf': "plan _final__x_.pdf",
            "...hidden.pdf": "hidden.pdf",
            "Rešenje o povratku ë.pdf": "Rešenje o povratku ë.pdf",
        }
        for position, (name, cleaned) in enumerate(names.items()):
            upload = SimpleUploadedFile("x.pdf", pdf(str(position).encode()), "application/pdf")
            upload.name = name
            document = documents.upload_document(
                application=app, by=world.officer, kind="other", uploaded_file=upload
            )
            assert document.original_name == cleaned
            assert KEY.match(document.file.name)
        assert len(store.keys()) == len(names)

    @pytest.mark.parametrize(
        ("kind", "data", "content_type"),
        [
            (
                "business_plan",
                docx(),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
            ("business_plan", odt(), "application/vnd.oasis.opendocument.text"),
            ("id_document", jpeg(gps=False), "image/jpeg"),
            ("supplier_quote", png(), "image/png"),
            ("photo", png(mode="P"), "image/png"),
        ],
        ids=["docx", "odt", "jpeg", "png", "png-palette"],
    )
    def test_each_kind_takes_its_types(self, world, api, store, kind, data, content_type):
        app = world.application()
        response = post_document(
            api(world.officer), app, kind=kind, name="upload.bin", data=data, content_type="text/plain"
        )
        assert response.status_code == 201, response.json()
        document = Document.objects.get()
        assert document.content_type == content_type
        assert store.keys() == {document.file.name}
        if store.backend == "s3":
            assert store.head(document.file.name)["ContentType"] == content_type

    def test_the_type_comes_from_the_content_not_the_name(self, world, api, store):
        app = world.application()
        response = post_document(
            api(world.applicant),
            app,
            kind="id_document",
            name="scan.pdf",
            data=png(),
            content_type="application/pdf",
        )
        assert response.status_code == 201
        document = Document.objects.get()
        assert document.content_type == "image/png"
        assert documents.download_filename(document) == "scan.png"

    def test_the_same_file_twice_on_one_application_is_refused(self, world, api, store):
        app, other = world.application(), world.application()
        client = api(world.applicant)
        data = pdf(b"twice")
        assert post_document(client, app, kind="business_plan", name="a.pdf", data=data).status_code == 201
        response = post_document(client, app, kind="other", name="b.pdf", data=data)
        assert response.status_code == 400
        assert response.json()["code"] == "duplicate"
        assert response.json()["detail"] == "This file is already attached to this application."
        assert app.documents.count() == 1
        assert len(store.keys()) == 1
        # Another application may carry the same file.
        assert post_document(client, other, kind="business_plan", name="a.pdf", data=data).status_code == 201
        assert len(store.keys()) == 2

    def test_an_officer_uploading_for_the_applicant_is_recorded_as_such(self, world, api, store):
        app = world.application()
        response = post_document(api(world.officer), app, kind="id_document", name="id.pdf", data=pdf(b"id"))
        assert response.status_code == 201
        document = Document.objects.get()
        assert (document.uploaded_by, document.on_behalf_of) == (world.officer, world.person)
        event = uploaded_events(app).get()
        assert (event.actor, event.on_behalf_of) == (world.officer, world.person)

    def test_s3_objects_are_private_and_encrypted(self, world, api, store):
        if store.backend != "s3":
            pytest.skip("S3 only: local files have no ACL")
        app = world.application()
        assert (
            post_document(
                api(world.applicant), app, kind="business_plan", name="a.pdf", data=pdf()
            ).status_code
            == 201
        )
        key = Document.objects.get().file.name
        assert store.head(key)["ServerSideEncryption"] == "AES256"
        grants = store.client.get_object_acl(Bucket=store.name, Key=key)["Grants"]
        assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
        assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants)

    def test_no_temporary_file_is_left_behind(self, world, api, store, settings, tmp_path):
        app = world.application()
        # Larger than FILE_UPLOAD_MAX_MEMORY_SIZE: spooled to a temporary file on disk.
        data = pdf(b"x" * (settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1024))
        assert (
            post_document(
                api(world.applicant), app, kind="business_plan", name="a.pdf", data=data
            ).status_code
            == 201
        )
        assert list((tmp_path / "uploads").iterdir()) == []
        if store.backend == "s3":
            assert not (tmp_path / "media").exists()


class TestWhoUploads:
    @pytest.mark.parametrize(
        ("who", "kind", "status"),
        [
            ("applicant", "business_plan", 201),
            ("applicant", "handover_protocol", 403),
            ("applicant2", "business_plan", 404),
            ("officer", "supplier_quote", 201),
            ("officer", "release_certificate", 201),
            ("colleague", "release_certificate", 403),
            ("officer2", "business_plan", 404),
            ("finance", "handover_protocol", 201),
            ("finance", "release_certificate", 403),
            ("manager", "business_plan", 403),
            ("auditor", "business_plan", 403),
        ],
    )
    def test_role_by_role(self, world, api, store, who, kind, status):
        app = world.application(submitted=True)
        response = post_document(api(getattr(world, who)), app, kind=kind, name="a.pdf", data=pdf(b"r"))
        assert response.status_code == status, response.json()
        assert Document.objects.count() == (1 if status == 201 else 0)
        assert len(store.keys()) == Document.objects.count()

    def test_anonymous_gets_401(self, world, api, store):
        app = world.application()
        response = post_document(api(), app, kind="business_plan", name="a.pdf", data=pdf())
        assert response.status_code == 401
        assert_nothing_stored(store)

    def test_a_closed_application_takes_no_more_from_the_applicant(self, world, store):
        app = world.application()
        GrantApplication.objects.filter(pk=app.pk).update(state="withdrawn")
        app.refresh_from_db()
        upload = SimpleUploadedFile("a.pdf", pdf(), "application/pdf")
        with pytest.raises(NotAllowed, match="closed"):
            documents.upload_document(
                application=app, by=world.applicant, kind="business_plan", uploaded_file=upload
            )
        with pytest.raises(NotVisible):
            documents.upload_document(
                application=app, by=world.applicant2, kind="business_plan", uploaded_file=upload
            )
        assert_nothing_stored(store)
