"""Both new roles' markers (procurement officer, committee member) on the centre, then
every role group synced once more, after all the merged branches' permissions exist
(applicants.roles.ROLE_PERMISSIONS)."""

from django.db import migrations

from applicants.role_setup import sync_role_groups


class Migration(migrations.Migration):

    dependencies = [
        ('applicants', '0010_merge_selection'),
        ('grants', '0014_merge_selection'),
        ('selection', '0002_selection_committee_role_group'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='integrationcentre',
            options={'ordering': ['name'], 'permissions': [('access_centre', "Work with this centre's records"), ('role_applicant', 'Role: applicant'), ('role_field_officer', 'Role: field officer'), ('role_programme_manager', 'Role: programme manager'), ('role_finance_officer', 'Role: finance officer'), ('role_auditor', 'Role: auditor'), ('role_procurement_officer', 'Role: procurement officer'), ('role_committee_member', 'Role: selection committee member')]},
        ),
        migrations.RunPython(sync_role_groups, migrations.RunPython.noop),
    ]
