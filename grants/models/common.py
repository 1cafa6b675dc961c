"""What every part of grants.models shares: money fields, limits, sectors, currencies."""

from django.db import models
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 14, "decimal_places": 2}
# The most of one item a grant buys or a delivery hands over (forms, API and services
# read it from the fields' validators).
MAX_QUANTITY = 100_000


def max_length(model, name):
    """The limit of a text field, for the forms and serializers that take it in."""
    return model._meta.get_field(name).max_length


class Sector(models.TextChoices):
    AGRICULTURE = "agriculture", _("Agriculture")
    LIVESTOCK = "livestock", _("Livestock")
    FOOD = "food", _("Food")
    CRAFTS = "crafts", _("Crafts")
    CONSTRUCTION = "construction", _("Construction")
    SERVICES = "services", _("Services")
    TRADE = "trade", _("Trade")
    TRANSPORT = "transport", _("Transport")
    OTHER = "other", _("Other")


class Currency(models.TextChoices):
    EUR = "EUR", "EUR"
    RSD = "RSD", "RSD"
    ALL = "ALL", "ALL"
    BAM = "BAM", "BAM"
    MKD = "MKD", "MKD"
