"""The committee members' role group, and the scoring permission for field officers and
programme managers who sit on committees (applicants.roles.ROLE_PERMISSIONS)."""

from django.db import migrations

from applicants.role_setup import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("selection", "0001_selection_committees"),
        ("applicants", "0006_selection_committee_role"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
