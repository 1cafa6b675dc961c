import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _storage():
    name = default_storage.save(f"healthz/{uuid.uuid4().hex}", ContentFile(b"ok"))
    default_storage.delete(name)


@never_cache
@require_GET
@transaction.non_atomic_requests
def healthz(request):
    """200 when the database and the document store both answer, 503 naming what failed."""
    result, ok = {}, True
    for name, check in (("database", _database), ("storage", _storage)):
        try:
            check()
            result[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
            result[name] = f"unavailable: {exc.__class__.__name__}"
            ok = False
    return JsonResponse(result, status=200 if ok else 503)
