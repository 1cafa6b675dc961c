"""Each programme's call becomes a record: one call from the programme's dates with its
whole budget, and every application of the programme made in it."""

from django.db import migrations


def calls_from_programmes(apps, schema_editor):
    Programme = apps.get_model("grants", "Programme")
    Call = apps.get_model("grants", "Call")
    GrantApplication = apps.get_model("grants", "GrantApplication")
    for programme in Programme.objects.order_by("pk").iterator():
        call = Call.objects.create(
            programme=programme,
            name=programme.name,
            opens=programme.call_opens,
            closes=programme.call_closes,
            budget=programme.budget,
        )
        GrantApplication.objects.filter(programme=programme).update(call=call)


class Migration(migrations.Migration):
    dependencies = [("grants", "0010_selection_calls")]

    operations = [migrations.RunPython(calls_from_programmes, migrations.RunPython.noop)]
