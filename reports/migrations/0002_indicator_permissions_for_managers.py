"""Programme managers edit their programmes' indicators and targets in the admin: every
role group synced once more now that the indicator permissions exist
(applicants.roles.ROLE_PERMISSIONS)."""

from django.db import migrations

from applicants.role_setup import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_indicators_and_donor_reports"),
        ("applicants", "0011_role_markers_merged"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
