"""Deleting a document deletes its object; sweep_orphans finds objects without rows and
rows without objects, and removes them with --delete."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from core.errors import NotAllowed, NotVisible
from grants import documents
from grants.models import AuditEvent, Document, GrantApplication

from ..s3server import free_port, use_s3
from .support import pdf

pytestmark = pytest.mark.django_db

ORPHAN = "documents/2020/01/0123456789abcdef0123456789abcdef"


def upload(world, application, *, by=None, kind="business_plan", tag=b""):
    return documents.upload_document(
        application=application,
        by=by or world.officer,
        kind=kind,
        uploaded_file=SimpleUploadedFile("plan.pdf", pdf(kind.encode() + tag), "application/pdf"),
    )


def sweep(*args):
    out = io.StringIO()
    call_command("sweep_orphans", *args, stdout=out)
    return out.getvalue()


class TestDelete:
    def test_deleting_a_document_deletes_its_object(self, world, store, django_capture_on_commit_callbacks):
        app = world.application()
        keep, gone = upload(world, app, tag=b"keep"), upload(world, app, tag=b"gone")
        gone_pk = gone.pk
        with django_capture_on_commit_callbacks(execute=True):
            documents.delete_document(document=gone, by=world.officer)
        assert list(Document.objects.all()) == [keep]
        assert store.keys() == {keep.file.name}
        event = AuditEvent.objects.get(action="document_deleted")
        assert (event.actor, event.data["document"], event.data["sha256"]) == (
            world.officer,
            gone_pk,
            gone.sha256,
        )

    def test_who_may_delete(self, world, store):
        app = world.application()
        own = upload(world, app, by=world.applicant, tag=b"own")
        staff = upload(world, app, by=world.officer, tag=b"staff")
        with pytest.raises(NotAllowed, match="only the documents you added"):
            documents.delete_document(document=staff, by=world.applicant)
        with pytest.raises(NotVisible):
            documents.delete_document(document=own, by=world.applicant2)
        with pytest.raises(NotAllowed, match="only the documents you added"):
            documents.delete_document(document=own, by=world.finance)
        with pytest.raises(NotVisible):
            documents.delete_document(document=own, by=world.auditor)
        documents.delete_document(document=own, by=world.applicant)
        protocol = upload(world, app, kind="handover_protocol")
        GrantApplication.objects.filter(pk=app.pk).update(state="equipment_delivered")
        protocol.application.refresh_from_db()
        with pytest.raises(NotAllowed, match="handover protocol"):
            documents.delete_document(document=protocol, by=world.officer)
        assert set(Document.objects.all()) == {staff, protocol}

    def test_an_object_the_store_could_not_delete_is_left_for_the_sweep(
        self, world, store, settings, django_capture_on_commit_callbacks
    ):
        if store.backend != "s3":
            pytest.skip("S3 only")
        document = upload(world, world.application())
        endpoint = store.endpoint
        use_s3(settings, f"http://127.0.0.1:{free_port()}", store.name, max_attempts=1, connect_timeout=1)
        with django_capture_on_commit_callbacks(execute=True):
            documents.delete_document(document=document, by=world.officer)
        assert not Document.objects.exists()
        assert store.keys() == {document.file.name}
        use_s3(settings, endpoint, store.name)
        assert document.file.name in sweep("--older-than", "0")


class TestSweepOrphans:
    def test_it_reports_objects_without_rows_and_rows_without_objects(self, world, store):
        app = world.application()
        kept, lost = upload(world, app, tag=b"kept"), upload(world, app, tag=b"lost")
        store.remove(lost.file.name)
        store.put(ORPHAN, b"left behind by a crash")

        out = sweep("--older-than", "0")

        assert "Objects without a document row: 1" in out
        assert f"  {ORPHAN}  22 bytes, stored " in out
        assert "Document rows without an object: 1" in out
        assert f"document {lost.pk} of application {app.pk}, business_plan, 'plan.pdf'" in out
        assert "Run again with --delete" in out
        # Reporting changes nothing.
        assert set(Document.objects.all()) == {kept, lost}
        assert store.keys() == {kept.file.name, ORPHAN}

    def test_delete_removes_both_and_records_the_lost_row(self, world, store):
        app = world.application()
        kept, lost = upload(world, app, tag=b"kept"), upload(world, app, tag=b"lost")
        store.remove(lost.file.name)
        store.put(ORPHAN, b"left behind by a crash")

        out = sweep("--older-than", "0", "--delete")

        assert "Removed 1 objects and 1 document rows." in out
        assert list(Document.objects.all()) == [kept]
        assert store.keys() == {kept.file.name}
        event = AuditEvent.objects.get(action="document_lost")
        assert (event.actor, event.application) == (None, app)
        assert event.data == {
            "document": lost.pk,
            "kind": "business_plan",
            "sha256": lost.sha256,
            "key": lost.file.name,
            "before": {"document": lost.pk, "kind": "business_plan", "sha256": lost.sha256},
            "after": None,
        }
        assert sweep("--older-than", "0").count(": 0") == 2

    def test_young_objects_are_left_alone_as_uploads_in_progress(self, world, store):
        upload(world, world.application())
        store.put(ORPHAN, b"an upload still saving its row")
        out = sweep("--delete")
        assert "Objects without a document row: 0" in out
        assert "(and 1 younger than 60 minutes, left alone: uploads may be in progress)" in out
        assert ORPHAN in store.keys()

    def test_an_unreachable_store_is_a_command_error(self, world, store, settings, tmp_path):
        if store.backend == "s3":
            use_s3(settings, f"http://127.0.0.1:{free_port()}", store.name, max_attempts=1, connect_timeout=1)
        else:
            pytest.skip("a missing local folder is simply empty")
        with pytest.raises(CommandError, match="The document store is not reachable"):
            sweep()
