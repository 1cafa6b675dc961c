"""Objects without a row and rows without an object (manage.py sweep_orphans)."""

import datetime
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from audit import trail

from ..models import Document
from .kinds import KEY_PREFIX


@dataclass(frozen=True)
class OrphanObject:
    key: str
    size: int | None
    modified: object


@dataclass(frozen=True)
class Orphans:
    objects: list  # OrphanObject: objects under documents/ without a row
    rows: list  # Document: rows whose object is gone
    young: int  # objects without a row yet, but possibly an upload still in progress


def _walk(storage, prefix):
    try:
        folders, files = storage.listdir(prefix)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{prefix}{name}"
    for folder in sorted(folders):
        yield from _walk(storage, f"{prefix}{folder}/")


def find_orphans(*, older_than_minutes=60, storage=None):
    """Objects without a row and rows without an object. Rows are read first, so an
    upload finishing meanwhile shows at most as an object without a row, and such
    objects count only once they are older than any upload could take."""
    storage = storage or default_storage
    rows = dict(Document.objects.values_list("file", "pk"))
    keys = set()
    objects, young = [], 0
    cutoff = timezone.now() - datetime.timedelta(minutes=older_than_minutes)
    for key in _walk(storage, KEY_PREFIX):
        keys.add(key)
        if key in rows:
            continue
        modified = storage.get_modified_time(key)
        if modified > cutoff:
            young += 1
            continue
        objects.append(OrphanObject(key, storage.size(key), modified))
    # A row outside documents/ (an older layout) was not listed: ask for its object.
    missing = [
        pk
        for name, pk in rows.items()
        if name not in keys and (name.startswith(KEY_PREFIX) or not storage.exists(name))
    ]
    documents = list(Document.objects.filter(pk__in=missing).select_related("application").order_by("pk"))
    return Orphans(objects=objects, rows=documents, young=young)


def remove_orphans(orphans, *, storage=None):
    """Delete what find_orphans reported, checking each again first: an object that
    gained a row, or a row whose object reappeared, is left alone."""
    storage = storage or default_storage
    removed_objects = removed_rows = 0
    for orphan in orphans.objects:
        if Document.objects.filter(file=orphan.key).exists():
            continue
        storage.delete(orphan.key)
        removed_objects += 1
    for document in orphans.rows:
        if storage.exists(document.file.name):
            continue
        with transaction.atomic():
            trail.record(
                action="document_lost",
                application=document.application,
                data={
                    "document": document.pk,
                    "kind": document.kind,
                    "sha256": document.sha256,
                    "key": document.file.name,
                    "before": {"document": document.pk, "kind": document.kind, "sha256": document.sha256},
                    "after": None,
                },
            )
            Document.objects.filter(pk=document.pk).delete()
        removed_rows += 1
    return removed_objects, removed_rows
