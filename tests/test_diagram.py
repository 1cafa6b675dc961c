"""The workflow diagram is drawn from the django-fsm definition and never goes stale."""

import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import translation
from django_fsm import Transition

from grants.diagram import MAIN_PATH, workflow_svg
from grants.models import TRANSITION_NAMES, GrantApplication
from grants.permissions import transition_meta
from grants.workflow import State

NS = {"svg": "http://www.w3.org/2000/svg"}
COMMITTED = Path(settings.BASE_DIR) / "docs" / "workflow.svg"


def parse(svg):
    return ET.fromstring(svg)


def fsm_pairs():
    """(transition, source, target) straight from the model's @transition metadata."""
    pairs = set()
    for name in TRANSITION_NAMES:
        for t in transition_meta(name).transitions.values():
            pairs.add((t.name, t.source, t.target))
    return pairs


def drawn_pairs(root):
    pairs = set()
    for g in root.iterfind(".//svg:g[@class='edge']", NS):
        for source in g.get("data-source").split():
            pairs.add((g.get("data-transition"), source, g.get("data-target")))
    return pairs


def english_svg(state=None):
    with translation.override("en"):
        return workflow_svg(current_state=state)


def test_it_draws_every_state_with_its_label():
    root = parse(english_svg())
    drawn = {g.get("data-state"): g for g in root.iterfind(".//svg:g[@data-state]", NS)}
    choices = dict(GrantApplication._meta.get_field("state").choices)
    assert set(drawn) == set(choices)
    assert len(choices) == 11
    with translation.override("en"):
        for state, label in choices.items():
            assert drawn[state].find("svg:text", NS).text == str(label)


def test_it_draws_every_transition_of_the_fsm_and_nothing_else():
    root = parse(english_svg())
    assert drawn_pairs(root) == fsm_pairs()
    labels = {t.text for t in root.iterfind(".//svg:g[@class='edge']/svg:text", NS)}
    assert labels == {name.replace("_", " ").replace("follow up", "follow-up") for name in TRANSITION_NAMES}


def test_it_follows_a_transition_added_to_the_model(monkeypatch):
    """The drawing reads the FSM: a new transition shows up without touching diagram.py."""
    meta = transition_meta("cancel")
    original = meta.transitions
    extra = {**original}
    extra["completed"] = Transition(
        method=original["approved"].method,
        source="completed",
        target="approved",
        on_error=None,
        conditions=[],
        permission=None,
        custom={},
    )
    monkeypatch.setattr(meta, "transitions", extra)
    root = parse(english_svg())
    assert ("cancel", "completed", "approved") in drawn_pairs(root)


def test_the_main_path_runs_top_to_bottom():
    root = parse(english_svg())
    ys = []
    for state in MAIN_PATH:
        rect = root.find(f".//svg:g[@data-state='{state}']/svg:rect", NS)
        ys.append(int(rect.get("y")))
    assert ys == sorted(ys)
    assert len(set(ys)) == len(MAIN_PATH)


def test_it_is_accessible_and_csp_safe():
    svg = english_svg(State.APPROVED)
    root = parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "wf-title wf-desc"
    assert root.find("svg:title", NS).text == "Workflow of a grant application"
    desc = root.find("svg:desc", NS).text
    assert desc.startswith("Current state: Approved.")
    assert "return for changes: from Submitted to Draft" in desc
    assert "style=" not in svg
    assert "<script" not in svg
    assert all(el.get("style") is None for el in root.iter())


def test_it_highlights_the_current_state_and_only_that_one():
    root = parse(english_svg(State.BUSINESS_TRAINING))
    current = root.findall(".//svg:g[@aria-current='step']", NS)
    assert [g.get("data-state") for g in current] == ["business_training"]
    assert "current" in current[0].get("class").split()
    rect = current[0].find("svg:rect", NS)
    other = root.find(".//svg:g[@data-state='draft']/svg:rect", NS)
    assert rect.get("fill") != other.get("fill")
    assert current[0].find("svg:text", NS).get("font-weight") == "bold"


def test_without_a_current_state_nothing_is_highlighted():
    root = parse(english_svg())
    assert root.findall(".//svg:g[@aria-current]", NS) == []
    assert "Current state" not in root.find("svg:desc", NS).text


def test_labels_follow_the_active_language():
    with translation.override("sr-latn"):
        svg = workflow_svg(current_state=State.DRAFT)
    root = parse(svg)
    assert root.find(".//svg:g[@data-state='draft']/svg:text", NS).text == "Nacrt"
    assert root.find("svg:title", NS).text == "Tok prijave za grant"
    labels = {t.text for t in root.iterfind(".//svg:g[@class='edge']/svg:text", NS)}
    assert "vrati na izmene" in labels


def test_labels_are_escaped():
    svg = english_svg()
    parse(svg)  # well-formed XML even with the quotes in font-family
    assert "'Segoe UI'" in svg


def test_the_committed_diagram_is_up_to_date():
    assert COMMITTED.read_text(encoding="utf-8") == english_svg(), (
        "docs/workflow.svg is stale: run `make diagram` and commit it."
    )


def test_the_command_writes_the_file(tmp_path):
    target = tmp_path / "out" / "workflow.svg"
    call_command("workflow_diagram", str(target), stdout=io.StringIO())
    assert target.read_text(encoding="utf-8") == english_svg()


def test_the_command_highlights_a_state_and_refuses_an_unknown_one(tmp_path):
    target = tmp_path / "approved.svg"
    call_command("workflow_diagram", str(target), state="approved", stdout=io.StringIO())
    root = parse(target.read_text(encoding="utf-8"))
    assert [g.get("data-state") for g in root.findall(".//svg:g[@aria-current]", NS)] == ["approved"]
    with pytest.raises(CommandError, match="Unknown state 'paid'"):
        call_command("workflow_diagram", str(tmp_path / "x.svg"), state="paid")
    assert not (tmp_path / "x.svg").exists()
