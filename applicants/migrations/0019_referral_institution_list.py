"""The list of referring institutions beside the old free text, which 0020 moves into
it and 0021 removes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('applicants', '0018_merge_consent_purposes'),
    ]

    operations = [
        migrations.AddField(
            model_name='applicantsensitive',
            name='referral_other',
            field=models.CharField(blank=True, max_length=80, verbose_name='referring institution (other)'),
        ),
        migrations.AddField(
            model_name='applicantsensitive',
            name='referral_review',
            field=models.TextField(blank=True, verbose_name='referral text to review'),
        ),
        migrations.CreateModel(
            name='ReferralInstitution',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=120, unique=True, verbose_name='name')),
                ('kind', models.CharField(choices=[('prison', 'Prison'), ('probation', 'Probation service'), ('social_service', 'Social service'), ('employment_service', 'Employment service'), ('association', 'Association')], max_length=20, verbose_name='kind')),
                ('active', models.BooleanField(default=True, verbose_name='offered in forms')),
                ('country', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='referral_institutions', to='applicants.country')),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.AddField(
            model_name='applicantsensitive',
            name='referral',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='applicants.referralinstitution', verbose_name='referring institution'),
        ),
    ]
