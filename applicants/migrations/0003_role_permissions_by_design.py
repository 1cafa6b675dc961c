"""The role groups get exactly docs/design.md's role table (applicants.roles.ROLE_PERMISSIONS):
officers gain the training, attendance and visit permissions they use, managers the
staff assignments, finance loses nothing it needs and never gets sensitive facts, the
auditor reads programmes, reports and the audit trail only."""

from django.db import migrations

from applicants.role_setup import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("applicants", "0002_role_groups"),
        ("grants", "0001_initial"),
        ("assessments", "0003_attendance_same_cohort"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
