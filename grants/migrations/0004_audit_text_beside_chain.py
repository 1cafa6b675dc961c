import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0003_application_report_scope"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditText",
            fields=[
                (
                    "event",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="free_text",
                        serialize=False,
                        to="grants.auditevent",
                    ),
                ),
                ("text", models.TextField()),
                ("salt", models.CharField(max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="auditevent",
            name="text_digest",
            field=models.CharField(
                blank=True,
                help_text="HMAC-SHA256 of the free text under its own salt; empty: none.",
                max_length=64,
            ),
        ),
    ]
