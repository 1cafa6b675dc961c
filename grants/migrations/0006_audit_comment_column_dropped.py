from django.db import migrations


class Migration(migrations.Migration):
    """Separate from the data migration: PostgreSQL refuses to alter a table in the
    transaction that wrote rows with deferred constraints into it."""

    dependencies = [
        ("grants", "0005_audit_texts_moved_out_of_chain"),
    ]

    operations = [
        migrations.RemoveField(model_name="auditevent", name="comment"),
    ]
