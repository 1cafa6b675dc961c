"""The benchmark dataset: what several years of a regional programme leave behind.

At scale 1: 100,000 applications over 20 centres and 4 programmes, ~300,000 equipment
items, ~50,000 deliveries, ~100,000 monitoring visits, ~1,000,000 audit events in one
valid hash chain, 500 staff users with their guardian permissions (direct-FK tables),
and the training, assessment and commitment rows each state implies. Every application's
history is consistent with its state, so the workflow's guards hold on the loaded rows
(the throughput run approves applications that are ready, through the real services).

Rows are built as tuples with ids chosen here and loaded in bulk (bench.writer)."""

import datetime
import random
import time

from django.db import transaction
from django.utils import timezone

from grants.models import GrantApplication

from ..writer import TableWriter
from .applications import Applications
from .data import ADMIN, APPLICANT, MANAGER, OFFICER, WORKER_MANAGER, WORKER_MANAGERS
from .history import History
from .people import People
from .plan import Scale

# The users the measurements act as (bench.measure, bench.throughput).
__all__ = [
    "ADMIN",
    "APPLICANT",
    "MANAGER",
    "OFFICER",
    "WORKER_MANAGER",
    "WORKER_MANAGERS",
    "Scale",
    "generate",
]


class Generator(People, Applications, History):
    def __init__(self, *, scale=1.0, seed=7, progress=True):
        self.size = Scale(scale)
        self.rnd = random.Random(seed)
        self.now = timezone.now().astimezone(datetime.UTC).replace(microsecond=0)
        self.today = timezone.localdate()
        self.progress = progress
        self.writer = TableWriter(progress=_bar if progress else None)
        self.events = []  # (at, actor, on_behalf_of, application, applicant, action, from, to, comment, data)
        self.usernames = {}

    def event(self, at, action, *, actor=None, application=None, applicant=None, on_behalf_of=None,
              source="", target="", comment="", data=None):  # fmt: skip
        self.events.append((at, actor, on_behalf_of, application, applicant, action, source, target, comment,
                            data or {}))  # fmt: skip

    def run(self):
        if GrantApplication.objects.exists():
            raise RuntimeError("The bench database already holds applications; generate into an empty one.")
        started = time.perf_counter()
        with transaction.atomic():
            self.writer.skip_foreign_key_triggers()
            self.places()
            self.staff()
            self.applicants()
            self.plan_applications()
            self.write_applications()
            self.training_and_assessments()
            self.money_and_documents()
            self.visits()
            self.audit_chain()
            self.writer.reset_sequences()
            foreign_keys = self.writer.check_foreign_keys()
        self.writer.analyze()
        return {
            "seconds": round(time.perf_counter() - started, 1),
            "scale": self.size.scale,
            "rows": dict(self.writer.rows_written),
            "ready_to_approve": sum(1 for a in self.apps if a.ready),
            "foreign_keys_checked": foreign_keys,
        }


def _bar(desc, unit):
    from tqdm import tqdm

    return tqdm(desc=f"{desc:<24}", unit=f" {unit}", unit_scale=True, leave=True, mininterval=0.5)


def generate(*, scale=1.0, seed=7, progress=True):
    """Load the dataset; returns how long it took and how many rows each table got."""
    return Generator(scale=scale, seed=seed, progress=progress).run()
