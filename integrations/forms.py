from django import forms
from django.utils.translation import gettext_lazy as _

from .intake import MAX_RESOLUTION


class ReapplyForm(forms.Form):
    application = forms.IntegerField(
        label=_("Application number"),
        min_value=1,
        max_value=10**9 - 1,
        help_text=_("As on the application's page."),
    )
    months = forms.IntegerField(
        label=_("Visit (months after delivery)"),
        min_value=1,
        max_value=120,
        help_text=_("For example 3, 6 or 12."),
    )


class DismissForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it will not be recorded"),
        max_length=MAX_RESOLUTION,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
