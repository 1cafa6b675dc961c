"""The audit trail is append-only and hash-chained: the ORM and the admin refuse edits,
and `manage.py verify_audit` finds an event edited, deleted or inserted behind the
application's back (raw SQL), and a chain rewritten since its head was noted."""

import hashlib
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit import trail as audit_trail
from grants import services
from grants.models import AuditChainHead, AuditEvent, AuditText

from .conftest import verified_login

pytestmark = pytest.mark.django_db


def verify(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue() + err.getvalue()


@pytest.fixture
def trail(world):
    """A real trail: an application submitted, returned, submitted again and withdrawn."""
    app = world.application()
    services.take_transition(application=app, name="submit", by=world.applicant)
    services.take_transition(
        application=app, name="return_for_changes", by=world.officer, comment="Add a quote."
    )
    services.take_transition(application=app, name="submit", by=world.officer)
    services.take_transition(application=app, name="withdraw", by=world.applicant)
    return list(AuditEvent.objects.order_by("id"))


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_untouched_trail_verifies(trail):
    code, output = verify()
    assert code == 0
    assert f"intact: {len(trail)} events" in output
    assert trail[-1].hash in output


def test_each_event_links_to_the_one_before(trail):
    assert trail[0].prev_hash == ""
    for before, event in zip(trail, trail[1:], strict=False):
        assert event.prev_hash == before.hash
        assert event.hash == event.compute_hash()
    assert AuditChainHead.objects.get(pk=1).last_hash == trail[-1].hash


def test_it_catches_an_event_changed_with_raw_sql(trail):
    target = trail[2]
    raw("UPDATE grants_auditevent SET to_state = %s WHERE id = %s", ["approved", target.pk])
    code, output = verify()
    assert code == 1
    assert f"event {target.pk} (" in output and "changed after it was written" in output
    assert "BROKEN: 1 problem" in output


def test_the_comment_is_beside_the_chain_and_only_its_salted_digest_in_it(trail):
    returned = trail[1]
    assert returned.comment == "Add a quote."
    text = AuditText.objects.get(event=returned)
    assert "Add a quote." not in returned.canonical()
    assert returned.text_digest == AuditText.digest("Add a quote.", text.salt)
    # Unsalted, the digest of a guess would confirm it; under the row's salt it cannot.
    assert returned.text_digest != hashlib.sha256(b"Add a quote.").hexdigest()
    assert not AuditText.objects.filter(event=trail[0]).exists()


def test_it_catches_a_comment_changed_beside_the_chain(trail):
    target = trail[1]
    raw("UPDATE grants_audittext SET text = %s WHERE event_id = %s", ["Nothing to add.", target.pk])
    code, output = verify()
    assert code == 1
    assert f"the text of event {target.pk} (return_for_changes) was changed" in output
    assert "BROKEN: 1 problem" in output


def test_a_comment_deleted_by_erasure_leaves_the_chain_intact_and_reads_erased(trail):
    target = trail[1]
    AuditText.objects.filter(event=target).delete()
    assert verify()[0] == 0
    event = AuditEvent.objects.select_related("free_text").get(pk=target.pk)
    assert event.comment == "(erased)"
    assert event.text_digest == target.text_digest


def test_it_catches_a_changed_actor_even_with_the_hash_recomputed(trail):
    """Recomputing the edited row's own hash still breaks the link from the next one."""
    target = trail[1]
    event = AuditEvent.objects.get(pk=target.pk)
    event.actor_username = "someone_else"
    new_hash = hashlib.sha256(event.canonical().encode()).hexdigest()
    raw(
        "UPDATE grants_auditevent SET actor_username = %s, hash = %s WHERE id = %s",
        ["someone_else", new_hash, target.pk],
    )
    code, output = verify()
    assert code == 1
    assert f"event {trail[2].pk} does not follow event {target.pk}" in output


def test_it_catches_a_deleted_event(trail):
    gone = trail[2]
    raw("DELETE FROM grants_auditevent WHERE id = %s", [gone.pk])
    code, output = verify()
    assert code == 1
    assert f"event {trail[3].pk} does not follow event {trail[1].pk}" in output


def test_it_catches_the_newest_event_deleted(trail):
    raw("DELETE FROM grants_auditevent WHERE id = %s", [trail[-1].pk])
    code, output = verify()
    assert code == 1
    assert "the newest event is not the one the chain head names" in output


def _insert(event_id, *, prev_hash, action="approve"):
    """A forged row with a correct hash of its own, written past the application."""
    forged = AuditEvent(at=timezone.now(), actor_username="intruder", action=action, prev_hash=prev_hash)
    forged.hash = forged.compute_hash()
    raw(
        "INSERT INTO grants_auditevent (id, at, actor_username, action, from_state, to_state, text_digest, "
        "data, prev_hash, hash) VALUES (%s, %s, %s, %s, '', '', '', %s, %s, %s)",
        [event_id, forged.at, "intruder", action, "{}", prev_hash, forged.hash],
    )
    return forged


def test_it_catches_an_event_inserted_at_the_end(trail):
    last = trail[-1]
    _insert(last.pk + 10, prev_hash=last.hash)
    code, output = verify()
    assert code == 1
    assert "inserted at the end" in output


def test_it_catches_an_event_inserted_between_two(trail):
    # Make room: a row with a gap in the ids, as a deleted-and-replaced one would leave.
    second = trail[1]
    raw("DELETE FROM grants_auditevent WHERE id = %s", [second.pk])
    _insert(second.pk, prev_hash=trail[0].hash, action="reject")
    code, output = verify()
    assert code == 1
    assert f"event {trail[2].pk} does not follow event {second.pk}" in output


def test_an_anchor_catches_a_trail_rewritten_end_to_end(trail):
    """Whoever rewrites every hash after an edit (and the head) passes the chain check;
    the head noted earlier outside the database no longer appears in it."""
    _code, output = verify()
    anchor = trail[-1].hash
    assert anchor in output
    previous = ""
    for event in AuditEvent.objects.order_by("id"):
        event.prev_hash = previous
        if event.pk == trail[1].pk:
            event.to_state = "rejected"
        new_hash = event.compute_hash()
        raw(
            "UPDATE grants_auditevent SET prev_hash = %s, to_state = %s, hash = %s WHERE id = %s",
            [previous, event.to_state, new_hash, event.pk],
        )
        previous = new_hash
    raw("UPDATE grants_auditchainhead SET last_hash = %s WHERE id = 1", [previous])
    assert verify()[0] == 0
    code, output = verify("--anchor", anchor)
    assert code == 1
    assert "anchor hash is no longer in the chain" in output


def test_the_orm_refuses_to_change_or_delete_events(trail):
    event = AuditEvent.objects.get(pk=trail[0].pk)
    event.to_state = "approved"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(to_state="approved")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert verify()[0] == 0


def test_the_admin_shows_events_read_only_even_to_a_superuser(trail, client, django_user_model):
    admin_user = django_user_model.objects.create_superuser(
        "root", "root@example.test", "a long admin password"
    )
    verified_login(client, admin_user)
    event = trail[1]
    listing = client.get("/admin/grants/auditevent/")
    assert listing.status_code == 200
    page = client.get(f"/admin/grants/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert (
        client.post(f"/admin/grants/auditevent/{event.pk}/change/", {"comment": "edited"}).status_code == 403
    )
    assert client.post(f"/admin/grants/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/grants/auditevent/add/").status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).comment == event.comment == "Add a quote."
    assert "Add a quote." in page.content.decode()
    assert verify()[0] == 0


def test_concurrent_style_appends_keep_one_chain(world):
    """Events written from several places (services, documents, registration) form one
    chain in the order they were written."""
    for n in range(5):
        audit_trail.record(action="note", actor=world.officer, comment=f"note {n}")
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert verify()[0] == 0
