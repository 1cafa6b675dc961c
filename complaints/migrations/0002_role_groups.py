"""The safeguarding focal point's group, and every role group synced once more with the
complaints permissions (applicants.roles.ROLE_PERMISSIONS)."""

from django.db import migrations

from applicants.role_setup import sync_role_groups


class Migration(migrations.Migration):

    dependencies = [
        ('complaints', '0001_complaints'),
        ('applicants', '0012_role_safeguarding_focal_point'),
    ]

    operations = [
        migrations.RunPython(sync_role_groups, migrations.RunPython.noop),
    ]
