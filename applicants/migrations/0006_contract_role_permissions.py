"""Finance officers and programme managers read grant contracts and record the own
contribution's payments (applicants.roles.ROLE_PERMISSIONS)."""

from django.db import migrations

from applicants.role_setup import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("applicants", "0005_public_label"),
        ("grants", "0010_contract_signed_contribution_registration"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
