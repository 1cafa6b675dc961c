"""The admin pages for what issue 21 added: narrowing staff to programmes or donors
(superusers only, through the audited service) and the referring organisations (kept by
superusers and by programme managers for their countries, membership changes audited)."""

import pytest
from django.urls import reverse

from applicants import roles
from applicants.models import ReferralPartner
from audit.models import AuditEvent
from grants.models import ProgrammeScope, RegionalProgramme

from .conftest import admin_for
from .factories import CountryFactory, UserFactory, staff
from .test_scopes import Donors

pytestmark = pytest.mark.django_db


@pytest.fixture
def root():
    return admin_for(UserFactory(username="root", is_superuser=True, is_staff=True))


def test_a_superuser_narrows_an_auditor_to_a_donor_in_the_admin(root, world):
    donors = Donors(world)
    auditor = staff(roles.AUDITOR, world.centre, username="giz-auditor")
    answer = root.post(
        reverse("admin:grants_programmescope_add"), {"user": auditor.pk, "programme": "", "donor": "GIZ"}
    )
    assert answer.status_code == 302
    row = ProgrammeScope.objects.get(user=auditor)
    assert row.donor == "GIZ" and row.created_by.username == "root"
    event = AuditEvent.objects.filter(action="programme_scope_changed").latest("id")
    assert event.data["after"] == [[None, "GIZ", None]]
    # A second row adds to the first; deleting one keeps the other.
    root.post(
        reverse("admin:grants_programmescope_add"),
        {"user": auditor.pk, "programme": donors.eu.pk, "donor": ""},
    )
    assert ProgrammeScope.objects.filter(user=auditor).count() == 2
    # (the service writes the user's rows anew: the GIZ row has a new number)
    giz = ProgrammeScope.objects.get(user=auditor, donor="GIZ")
    answer = root.post(reverse("admin:grants_programmescope_delete", args=[giz.pk]), {"post": "yes"})
    assert answer.status_code == 302
    assert list(ProgrammeScope.objects.filter(user=auditor).values_list("programme_id", "donor")) == [
        (donors.eu.pk, "")
    ]


def test_the_admin_refuses_both_or_neither_and_unknown_donors(root, world):
    Donors(world)
    auditor = staff(roles.AUDITOR, world.centre, username="giz-auditor")
    url = reverse("admin:grants_programmescope_add")
    answer = root.post(url, {"user": auditor.pk, "programme": "", "donor": ""})
    assert answer.status_code == 200 and answer.context["adminform"].form.errors
    answer = root.post(url, {"user": auditor.pk, "programme": "", "donor": "Nobody funds this"}, follow=True)
    assert b"No programme is funded by" in answer.content
    assert not ProgrammeScope.objects.filter(user=auditor).exists()
    # A programme and a regional programme at once: one row names one thing.
    regional = RegionalProgramme.objects.create(donor="GIZ", name="Western Balkans regional")
    answer = root.post(
        url, {"user": auditor.pk, "programme": "", "regional_programme": regional.pk, "donor": "GIZ"}
    )
    assert answer.status_code == 200 and answer.context["adminform"].form.errors
    answer = root.post(
        url, {"user": auditor.pk, "programme": "", "regional_programme": regional.pk, "donor": ""}
    )
    assert answer.status_code == 302
    assert list(
        ProgrammeScope.objects.filter(user=auditor).values_list("regional_programme_id", flat=True)
    ) == [regional.pk]
    ProgrammeScope.objects.filter(user=auditor).delete()
    # A field officer is not narrowed: not even offered.
    answer = root.post(url, {"user": world.officer.pk, "programme": "", "donor": "GIZ"})
    assert answer.status_code == 200 and "user" in answer.context["adminform"].form.errors


def test_only_superusers_reach_the_scopes(world):
    manager = admin_for(world.manager)
    assert manager.get(reverse("admin:grants_programmescope_changelist")).status_code == 403


def test_a_manager_keeps_the_referring_organisations_of_their_country(world):
    serbia_partner = ReferralPartner.objects.create(name="Roma Association Niš", country=world.serbia)
    elsewhere = ReferralPartner.objects.create(
        name="Far away", country=CountryFactory(code="AL", name="Albania")
    )
    member = UserFactory(username="roma-member")
    member.groups.add(roles.group_of(roles.REFERRAL_PARTNER))
    manager = admin_for(world.manager)
    listing = manager.get(reverse("admin:applicants_referralpartner_changelist"))
    assert listing.status_code == 200
    shown = {partner.pk for partner in listing.context["cl"].result_list}
    assert shown == {serbia_partner.pk}
    assert manager.get(
        reverse("admin:applicants_referralpartner_change", args=[elsewhere.pk])
    ).status_code in (
        302,
        403,
    )
    answer = manager.post(
        reverse("admin:applicants_referralpartner_change", args=[serbia_partner.pk]),
        {"name": serbia_partner.name, "country": world.serbia.pk, "members": [member.pk]},
    )
    assert answer.status_code == 302
    assert list(serbia_partner.members.all()) == [member]
    event = AuditEvent.objects.filter(action="referral_partner_changed").latest("id")
    assert event.data["before"] == {"members": []} and event.data["after"] == {"members": [member.pk]}
    # Someone without the role cannot be made a member.
    outsider = UserFactory(username="outsider")
    answer = manager.post(
        reverse("admin:applicants_referralpartner_change", args=[serbia_partner.pk]),
        {"name": serbia_partner.name, "country": world.serbia.pk, "members": [outsider.pk]},
    )
    assert answer.status_code == 200
    assert list(serbia_partner.members.all()) == [member]


def test_field_officers_do_not_keep_referring_organisations(world):
    officer = admin_for(world.officer)
    assert officer.get(reverse("admin:applicants_referralpartner_changelist")).status_code == 403
