"""The database refuses attendance for a session (or an enrolment) of another cohort:
composite foreign keys on PostgreSQL, triggers on SQLite (which cannot add constraints
to an existing table)."""

from django.db import migrations

PG = [
    (
        "ALTER TABLE assessments_attendance ADD CONSTRAINT attendance_session_same_cohort "
        "FOREIGN KEY (session_id, cohort_id) REFERENCES assessments_trainingsession (id, cohort_id) "
        "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
        "ALTER TABLE assessments_attendance DROP CONSTRAINT attendance_session_same_cohort",
    ),
    (
        "ALTER TABLE assessments_attendance ADD CONSTRAINT attendance_enrolment_same_cohort "
        "FOREIGN KEY (enrolment_id, cohort_id) REFERENCES assessments_enrolment (id, cohort_id) "
        "ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED",
        "ALTER TABLE assessments_attendance DROP CONSTRAINT attendance_enrolment_same_cohort",
    ),
]

SQLITE_CHECK = """
SELECT RAISE(ABORT, 'attendance must be for a session and an enrolment of its own cohort')
WHERE NOT EXISTS (SELECT 1 FROM assessments_trainingsession s WHERE s.id = NEW.session_id AND s.cohort_id = NEW.cohort_id)
   OR NOT EXISTS (SELECT 1 FROM assessments_enrolment e WHERE e.id = NEW.enrolment_id AND e.cohort_id = NEW.cohort_id);
"""
SQLITE = [
    (
        f"CREATE TRIGGER attendance_same_cohort_insert BEFORE INSERT ON assessments_attendance BEGIN {SQLITE_CHECK} END",
        "DROP TRIGGER attendance_same_cohort_insert",
    ),
    (
        f"CREATE TRIGGER attendance_same_cohort_update BEFORE UPDATE ON assessments_attendance BEGIN {SQLITE_CHECK} END",
        "DROP TRIGGER attendance_same_cohort_update",
    ),
]


def forwards(apps, schema_editor):
    statements = PG if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql, _reverse in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = PG if schema_editor.connection.vendor == "postgresql" else SQLITE
    for _sql, reverse in statements:
        schema_editor.execute(reverse)


class Migration(migrations.Migration):
    dependencies = [("assessments", "0002_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
