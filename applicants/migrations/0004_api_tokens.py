"""Per-device API tokens stored as SHA-256 hashes, replacing DRF's one raw key per user.

Existing DRF tokens keep working: each key is hashed into the new table (staff tokens
still expire STAFF_TOKEN_HOURS after they were first issued, applicants' tokens
APPLICANT_TOKEN_DAYS after this migration), then DRF's table, which holds the keys in
clear, is dropped. See docs/deploy.md."""

import hashlib
from datetime import UTC, datetime, timedelta

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


OLD_TABLE = "authtoken_token"


def _aware(value):
    """SQLite hands raw rows back as naive UTC (text, with some drivers)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def hash_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("applicants", "ApiToken")
    expires = django.utils.timezone.now() + timedelta(days=settings.APPLICANT_TOKEN_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT user_id, key, created FROM {OLD_TABLE}")  # noqa: S608 - constant name
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=user_id,
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            device="",
            created=_aware(created),
            expires=expires,
        )
        for user_id, key, created in rows
    )
    schema_editor.execute(f"DROP TABLE {connection.ops.quote_name(OLD_TABLE)}")


class Migration(migrations.Migration):

    dependencies = [
        ('applicants', '0003_role_permissions_by_design'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key_hash', models.CharField(max_length=64, unique=True)),
                ('device', models.CharField(blank=True, max_length=100, verbose_name='device')),
                ('created', models.DateTimeField(default=django.utils.timezone.now)),
                ('expires', models.DateTimeField()),
                ('last_used', models.DateTimeField(blank=True, null=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created', '-pk'],
                'indexes': [models.Index(fields=['user', 'expires'], name='applicants__user_id_991568_idx')],
            },
        ),
        migrations.RunPython(hash_drf_tokens, migrations.RunPython.noop),
    ]
