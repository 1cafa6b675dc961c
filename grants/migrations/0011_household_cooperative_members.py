"""Cooperative members get a role and membership dates, and the cooperative its
registration. The members' many-to-many table becomes the CooperativeMember model in
place (SeparateDatabaseAndState: Django cannot add `through` to a field), so the members
recorded before keep their rows, as "member"."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("applicants", "0006_household_household_ref"),
        ("grants", "0010_household_household_override"),
    ]

    operations = [
        migrations.AddField(
            model_name="grantapplication",
            name="cooperative_registered_on",
            field=models.DateField(blank=True, null=True, verbose_name="cooperative registered on"),
        ),
        migrations.AddField(
            model_name="grantapplication",
            name="cooperative_registration_number",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=50, verbose_name="cooperative registration number"
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CooperativeMember",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "applicant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to="applicants.applicant",
                            ),
                        ),
                        (
                            "application",
                            models.ForeignKey(
                                db_column="grantapplication_id",
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="memberships",
                                to="grants.grantapplication",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "grants_grantapplication_members",
                        "unique_together": {("application", "applicant")},
                    },
                ),
                migrations.AlterField(
                    model_name="grantapplication",
                    name="members",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="cooperative_applications",
                        through="grants.CooperativeMember",
                        through_fields=("application", "applicant"),
                        to="applicants.applicant",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.AddField(
            model_name="cooperativemember",
            name="role",
            field=models.CharField(
                choices=[("founder", "Founder"), ("member", "Member"), ("manager", "Manager")],
                default="member",
                max_length=10,
                verbose_name="role",
            ),
        ),
        migrations.AddField(
            model_name="cooperativemember",
            name="joined_on",
            field=models.DateField(blank=True, null=True, verbose_name="member since"),
        ),
        migrations.AddField(
            model_name="cooperativemember",
            name="left_on",
            field=models.DateField(blank=True, null=True, verbose_name="member until"),
        ),
    ]
