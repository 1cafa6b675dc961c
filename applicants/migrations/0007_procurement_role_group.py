"""The procurement officer's group, and the procurement permissions of finance and
programme managers (applicants.roles.ROLE_PERMISSIONS)."""

from django.db import migrations

from applicants.role_setup import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("applicants", "0006_procurement_officer_role"),
        ("grants", "0010_procurement_suppliers_quotes_orders"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
