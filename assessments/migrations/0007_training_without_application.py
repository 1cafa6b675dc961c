"""Training as its own service: an enrolment without a grant application (a registered
person directly), headcounts without names, meetings held.

On SQLite the enrolment table is rebuilt to make `application` nullable; the triggers
of 0003 that read it are dropped first and made again after (PostgreSQL alters the
column in place and keeps its composite foreign keys)."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


SQLITE_CHECK = """
SELECT RAISE(ABORT, 'attendance must be for a session and an enrolment of its own cohort')
WHERE NOT EXISTS (SELECT 1 FROM assessments_trainingsession s WHERE s.id = NEW.session_id AND s.cohort_id = NEW.cohort_id)
   OR NOT EXISTS (SELECT 1 FROM assessments_enrolment e WHERE e.id = NEW.enrolment_id AND e.cohort_id = NEW.cohort_id);
"""
TRIGGERS = [
    f"CREATE TRIGGER attendance_same_cohort_{event.lower()} BEFORE {event} ON assessments_attendance "
    f"BEGIN {SQLITE_CHECK} END"
    for event in ("INSERT", "UPDATE")
]


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for event in ("insert", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS attendance_same_cohort_{event}")


def make_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in TRIGGERS:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("applicants", "0018_merge_consent_purposes"),
        ("assessments", "0006_visits_no_longer_owed"),
        ("grants", "0020_programme_anonymous_training"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_triggers, make_triggers),
        migrations.CreateModel(
            name="SessionHeadcount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "sex",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("female", "Female"),
                            ("male", "Male"),
                            ("other", "Other (as the person states it)"),
                            ("not_said", "Prefers not to say"),
                        ],
                        max_length=10,
                        verbose_name="sex",
                    ),
                ),
                ("age_band", models.CharField(blank=True, max_length=10, verbose_name="age band")),
                (
                    "count",
                    models.PositiveSmallIntegerField(
                        validators=[django.core.validators.MaxValueValidator(1000)],
                        verbose_name="participants",
                    ),
                ),
                ("recorded_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "ordering": ["session", "sex", "age_band"],
            },
        ),
        migrations.CreateModel(
            name="TrainingMeeting",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("held_on", models.DateField(verbose_name="date")),
                (
                    "kind",
                    models.CharField(
                        choices=[("business_training", "Business training"), ("network", "Network meeting")],
                        max_length=20,
                        verbose_name="kind",
                    ),
                ),
                (
                    "participants",
                    models.PositiveSmallIntegerField(
                        validators=[django.core.validators.MaxValueValidator(1000)],
                        verbose_name="participants",
                    ),
                ),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["-held_on", "-id"],
            },
        ),
        migrations.AddField(
            model_name="enrolment",
            name="applicant",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="direct_enrolments",
                to="applicants.applicant",
            ),
        ),
        migrations.AlterField(
            model_name="enrolment",
            name="application",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="enrolments",
                to="grants.grantapplication",
            ),
        ),
        migrations.AddConstraint(
            model_name="enrolment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("active", True), ("applicant__isnull", False)),
                fields=("cohort", "applicant"),
                name="one_direct_enrolment_per_cohort",
            ),
        ),
        migrations.AddConstraint(
            model_name="enrolment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("applicant__isnull", True), ("application__isnull", False)),
                    models.Q(("applicant__isnull", False), ("application__isnull", True)),
                    _connector="OR",
                ),
                name="enrolment_application_or_applicant",
            ),
        ),
        migrations.AddField(
            model_name="sessionheadcount",
            name="recorded_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="sessionheadcount",
            name="session",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="headcounts",
                to="assessments.trainingsession",
            ),
        ),
        migrations.AddField(
            model_name="trainingmeeting",
            name="centre",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="meetings",
                to="applicants.integrationcentre",
            ),
        ),
        migrations.AddField(
            model_name="trainingmeeting",
            name="programme",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="meetings", to="grants.programme"
            ),
        ),
        migrations.AddField(
            model_name="trainingmeeting",
            name="recorded_by",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="sessionheadcount",
            constraint=models.UniqueConstraint(
                fields=("session", "sex", "age_band"), name="headcount_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="sessionheadcount",
            constraint=models.CheckConstraint(
                condition=models.Q(("count__lte", 1000)), name="headcount_at_most_1000"
            ),
        ),
        migrations.AddIndex(
            model_name="trainingmeeting",
            index=models.Index(fields=["centre", "held_on"], name="assessments_centre__9acf75_idx"),
        ),
        migrations.AddConstraint(
            model_name="trainingmeeting",
            constraint=models.CheckConstraint(
                condition=models.Q(("participants__lte", 1000)), name="meeting_at_most_1000"
            ),
        ),
        migrations.RunPython(make_triggers, drop_triggers),
    ]
