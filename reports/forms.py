"""Forms of the report pages: the programme whose indicators are shown, and a donor
report asked for."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DonorReport

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProgrammeForm(forms.Form):
    programme = forms.TypedChoiceField(label=_("Programme"), coerce=int)

    def __init__(self, *args, programmes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = list(programmes)


class DonorReportForm(forms.Form):
    programme = forms.TypedChoiceField(label=_("Programme"), coerce=int)
    year = forms.IntegerField(
        label=_("Year"),
        required=False,
        min_value=2000,
        max_value=2100,
        help_text=_("Or give the period below."),
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)
    language = forms.ChoiceField(label=_("Language of the PDF"), choices=DonorReport.Language.choices)

    def __init__(self, *args, programmes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = list(programmes)

    def clean(self):
        data = super().clean()
        year, date_from, date_to = data.get("year"), data.get("date_from"), data.get("date_to")
        if year and (date_from or date_to):
            raise forms.ValidationError(_("Give a year or a period, not both."))
        if year:
            data["date_from"], data["date_to"] = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        elif not (date_from and date_to):
            raise forms.ValidationError(_("Give a year, or the first and last day of the period."))
        elif date_from > date_to:
            self.add_error("date_to", _("The end date is before the start date."))
        return data
