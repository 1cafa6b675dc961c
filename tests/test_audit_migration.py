"""The upgrade that moves comments out of the audit chain: an old trail (comments hashed
verbatim) comes out provable in the new format, its texts beside it, and the re-linking
itself on the record with the old head hash."""

import hashlib
import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from audit.trail import verify_chain
from grants.models import AuditEvent, AuditText

# PostgreSQL only since the merge of issues 15-17: unapplying the merged migrations back
# to 0004 on SQLite fails in Django's table rebuild ("no such column" while dropping
# grants_grantapplication.cooperative_registration_number); forwards they run on both.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

BEFORE = ("grants", "0004_audit_text_beside_chain")


def _old_hash(row):
    """The hash as the trail wrote it before the upgrade (comment in the canonical form)."""
    canonical = json.dumps(
        {
            "at": row["at"].isoformat(),
            "actor": None,
            "actor_username": row["actor_username"],
            "on_behalf_of": None,
            "application": None,
            "applicant": None,
            "action": row["action"],
            "from_state": "",
            "to_state": "",
            "comment": row["comment"],
            "data": {},
            "prev_hash": row["prev_hash"],
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@pytest.fixture
def old_trail():
    """Migrate back to before the data migration and write a trail the old way."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([BEFORE])
    apps = executor.loader.project_state([BEFORE]).apps
    OldEvent = apps.get_model("grants", "AuditEvent")
    Head = apps.get_model("grants", "AuditChainHead")

    def write(rows):
        previous = ""
        for action, comment in rows:
            row = {
                "at": timezone.now(),
                "actor_username": "officer",
                "action": action,
                "comment": comment,
                "prev_hash": previous,
            }
            row["hash"] = _old_hash(row)
            OldEvent.objects.create(**row)
            previous = row["hash"]
        Head.objects.update_or_create(pk=1, defaults={"last_hash": previous})
        return previous

    def upgrade():
        executor.loader.build_graph()
        executor.migrate(latest)

    yield write, upgrade, OldEvent
    executor.loader.build_graph()
    executor.migrate(latest)


def test_an_old_trail_comes_out_provable_with_its_texts_beside_it(old_trail):
    write, upgrade, _ = old_trail
    old_head = write(
        [("submit", ""), ("reject", "I, Marko Demić (+381641234567), have no market."), ("note", "x")]
    )
    upgrade()
    count, _head, problems = verify_chain()
    assert (count, problems) == (4, [])
    events = list(AuditEvent.objects.select_related("free_text").order_by("id"))
    assert [e.comment for e in events] == ["", "I, Marko Demić (+381641234567), have no market.", "x", ""]
    assert AuditText.objects.count() == 2
    assert all("Marko" not in e.canonical() for e in events)
    marker = events[-1]
    assert marker.action == "audit_chain_migrated"
    assert marker.data == {"old_head": old_head, "events": 3, "old_chain_problems": []}


def test_a_break_in_the_old_trail_is_recorded_not_laundered(old_trail):
    write, upgrade, OldEvent = old_trail
    write([("submit", ""), ("approve", "")])
    OldEvent.objects.filter(action="approve").update(action="reject")
    upgrade()
    marker = AuditEvent.objects.get(action="audit_chain_migrated")
    assert marker.data["old_chain_problems"] == [
        f"event {marker.pk - 1} (reject) did not match its hash",
    ]
    assert verify_chain()[2] == []


def test_an_empty_trail_stays_empty(old_trail):
    _write, upgrade, _ = old_trail
    upgrade()
    assert not AuditEvent.objects.exists()
