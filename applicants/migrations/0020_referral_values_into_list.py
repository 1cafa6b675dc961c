"""Seed the referring institutions the programmes work with and move every free-text
referral into the list (applicants.referral_institutions.sort_legacy_value): a name on the list
becomes that entry, a short name "other", a longer one "other" cut at 80 characters and
a text that reads like a story an empty "other"; those two keep the whole text for a
programme manager's review. Nothing is lost, and going back puts each text back."""

from django.db import migrations

from applicants.referral_institutions import match_key, sort_legacy_value

# (name, kind, country code): the prisons, probation, social and employment services of
# the demo and of the programme pages (docs/design.md "Referring institutions").
INSTITUTIONS = [
    ("Sremska Mitrovica Correctional Institution", "prison", "RS"),
    ("Niš Correctional Institution", "prison", "RS"),
    ("Požarevac-Zabela Correctional Institution", "prison", "RS"),
    ("Belgrade District Prison", "prison", "RS"),
    ("Povereništvo Niš", "probation", "RS"),
    ("Povereništvo Sremska Mitrovica", "probation", "RS"),
    ("Centre for Social Work Niš", "social_service", "RS"),
    ("Centre for Social Work Sremska Mitrovica", "social_service", "RS"),
    ("National Employment Service – Niš branch", "employment_service", "RS"),
    ("National Employment Service – Sremska Mitrovica branch", "employment_service", "RS"),
    ("Dubrava Correctional Centre", "prison", "XK"),
    ("Kosovo Probation Service – Prizren", "probation", "XK"),
    ("Centre for Social Work Prizren", "social_service", "XK"),
    ("Employment Agency of Kosovo – Prizren office", "employment_service", "XK"),
]


def seed_and_move(apps, schema_editor):
    Country = apps.get_model("applicants", "Country")
    Institution = apps.get_model("applicants", "ReferralInstitution")
    Sensitive = apps.get_model("applicants", "ApplicantSensitive")
    countries = {c.code: c for c in Country.objects.all()}
    for name, kind, code in INSTITUTIONS:
        Institution.objects.get_or_create(name=name, defaults={"kind": kind, "country": countries.get(code)})
    entries = {match_key(i.name): i.pk for i in Institution.objects.all()}
    rows = Sensitive.objects.exclude(referral_institution="").order_by("pk")
    for row in rows.iterator(chunk_size=2000):
        row.referral_id, row.referral_other, row.referral_review = sort_legacy_value(
            row.referral_institution, entries
        )
        row.save(update_fields=["referral", "referral_other", "referral_review"])


def back_to_text(apps, schema_editor):
    Sensitive = apps.get_model("applicants", "ApplicantSensitive")
    rows = Sensitive.objects.select_related("referral").order_by("pk")
    for row in rows.iterator(chunk_size=2000):
        text = row.referral_review or (row.referral.name if row.referral_id else row.referral_other)
        if text:
            row.referral_institution = text[:200]
            row.save(update_fields=["referral_institution"])


class Migration(migrations.Migration):
    dependencies = [
        ("applicants", "0019_referral_institution_list"),
    ]

    operations = [
        migrations.RunPython(seed_and_move, back_to_text),
    ]
