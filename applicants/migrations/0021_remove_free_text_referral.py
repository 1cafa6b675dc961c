"""The free-text referral is gone: 0020 moved every value into the list, "other" or the
text kept for a manager's review."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("applicants", "0020_referral_values_into_list"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="applicantsensitive",
            name="referral_institution",
        ),
    ]
