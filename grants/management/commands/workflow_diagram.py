from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from grants.diagram import fsm_states, workflow_svg


class Command(BaseCommand):
    help = "Write the workflow diagram (SVG, drawn from the django-fsm definition) to PATH."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default="docs/workflow.svg", help="where to write the SVG")
        parser.add_argument("--state", help="highlight this state")
        parser.add_argument("--language", default="en", help="language of the labels (default: en)")

    def handle(self, *args, path, state=None, language="en", **options):
        if state is not None and state not in fsm_states():
            raise CommandError(f"Unknown state {state!r}; one of: {', '.join(fsm_states())}.")
        with translation.override(language):
            svg = workflow_svg(current_state=state)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(svg, encoding="utf-8")
        self.stdout.write(f"Wrote {target}")
