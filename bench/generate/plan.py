"""Sizes at a scale, and the plan of one application."""

import datetime
from dataclasses import dataclass, field


@dataclass
class Scale:
    scale: float = 1.0

    @property
    def applications(self):
        return max(100, round(100_000 * self.scale))

    @property
    def staff(self):
        return max(40, round(500 * self.scale))

    @property
    def audit_events(self):
        return round(1_000_000 * self.scale)


@dataclass
class App:
    """One application's plan: its state and the dated facts of its history."""

    applicant: int
    state: str
    sector: str
    created: datetime.datetime
    ready: bool = False
    items: list = field(default_factory=list)
    documents: list = field(default_factory=list)
    visits: list = field(default_factory=list)
    m: dict = field(default_factory=dict)
    path: set = field(default_factory=set)
    closed: datetime.datetime | None = None
    id: int = 0


def days(value):
    return datetime.timedelta(days=value)
