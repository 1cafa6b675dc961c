from django.db import migrations

from applicants.role_setup import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [
        ("applicants", "0001_initial"),
        ("grants", "0001_initial"),
        ("assessments", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
