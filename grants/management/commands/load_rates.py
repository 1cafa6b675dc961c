"""Load exchange rates (units of a currency per euro, per day) from a CSV file.

    python manage.py load_rates rates.csv

The file has a header row with the columns `currency`, `date` and `units_per_eur`
(`rate` is accepted for the last): one row per currency and day, dates as YYYY-MM-DD,
rates with a decimal point, for instance `RSD,2026-11-03,117.1532`. Currencies: EUR, RSD,
ALL, BAM, MKD (a EUR row, if any, must say 1). A rate already loaded for that day is
replaced, and the audit event `exchange_rates_loaded` keeps each rate added or replaced
with the value it replaced. The whole file is checked first: one bad row and nothing is saved, and the
message names the line. Deliveries keep the rate they were recorded with.
"""

import csv
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grants.models import Currency
from grants.services import load_exchange_rates

RATE_COLUMNS = ("units_per_eur", "rate")
MAX_RATE = Decimal("100000000")


def parse_rate(raw):
    try:
        rate = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError(f"rate {raw!r} is not a number such as 117.1532") from None
    if not rate.is_finite() or rate <= 0 or rate >= MAX_RATE:
        raise ValueError(f"rate {raw!r} must be a positive number")
    if rate != rate.quantize(Decimal("0.000001")):
        raise ValueError(f"rate {raw!r} has more than six decimal places")
    return rate.quantize(Decimal("0.000001"))


def parse_rows(lines):
    """(currency, date, rate) for every data row; ValueError naming the line otherwise."""
    reader = csv.DictReader(lines)
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    reader.fieldnames = fields
    rate_column = next((c for c in RATE_COLUMNS if c in fields), None)
    if "currency" not in fields or "date" not in fields or rate_column is None:
        raise ValueError("the header must name the columns currency, date and units_per_eur")
    rows, seen = [], set()
    for row in reader:
        line = reader.line_num
        try:
            if row.get(None):
                raise ValueError("more values than columns (write rates with a decimal point: 117.1532)")
            currency = (row.get("currency") or "").strip().upper()
            if currency not in Currency.values:
                raise ValueError(f"currency {currency!r} is not one of {', '.join(Currency.values)}")
            try:
                day = date.fromisoformat((row.get("date") or "").strip())
            except ValueError:
                raise ValueError(f"date {row.get('date')!r} is not a date as YYYY-MM-DD") from None
            rate = parse_rate(row.get(rate_column) or "")
            if currency == Currency.EUR and rate != 1:
                raise ValueError("a euro is one euro: the EUR rate must be 1")
            if (currency, day) in seen:
                raise ValueError(f"{currency} on {day} appears twice")
        except ValueError as error:
            raise ValueError(f"line {line}: {error}") from None
        seen.add((currency, day))
        rows.append((currency, day, rate))
    return rows


class Command(BaseCommand):
    help = "Load exchange rates (units per euro per day) from a CSV file: currency,date,units_per_eur."

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV file with the columns currency, date, units_per_eur")

    def handle(self, *args, path, **options):
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                rows = parse_rows(handle)
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
        except (ValueError, csv.Error, UnicodeDecodeError) as error:
            raise CommandError(f"{path}: {error}. Nothing was loaded.") from None
        created, updated = load_exchange_rates(rows=rows, source=Path(path).name)
        unchanged = len(rows) - created - updated
        self.stdout.write(
            f"Loaded {len(rows)} rates from {path}: {created} new, {updated} replaced, {unchanged} unchanged."
        )
