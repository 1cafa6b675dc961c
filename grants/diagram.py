"""The workflow diagram, drawn from the django-fsm definition of GrantApplication.

No graphviz: a small layered layout. The happy path runs down the middle; every other
state sits beside the states it is reached from (the ends on the right, `withdrawn` on the
left), and edges that share a transition and a target merge into one labelled arrow.
Only SVG presentation attributes are used (no `style=`), so the drawing can be inlined in a
page under the Content-Security-Policy. Labels are translated in the active language.
"""

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from . import transitions
from .models import GrantApplication
from .permissions import transition_meta
from .workflow import State

MAIN_PATH = [
    State.DRAFT,
    State.SUBMITTED,
    State.BUSINESS_TRAINING,
    State.APPROVED,
    State.EQUIPMENT_DELIVERED,
    State.FOLLOW_UP,
    State.COMPLETED,
]
# States off the main path go on the right unless listed here.
LEFT_SIDE = {State.WITHDRAWN}

STATE_FONT = 14
EDGE_FONT = 12
NODE_H = 40
ROW = 88
MARGIN = 16
FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"

INK = "#1f2937"
EDGE = "#4b5563"
MAIN_FILL = "#eef2ff"
MAIN_STROKE = "#3730a3"
END_FILL = "#f3f4f6"
END_STROKE = "#6b7280"
CURRENT_FILL = "#1e3a8a"
CURRENT_TEXT = "#ffffff"


def text_width(text, size):
    """A generous estimate (no font metrics available server-side)."""
    return int(len(text) * size * 0.62) + 1


@dataclass(frozen=True)
class Edge:
    name: str
    source: str
    target: str


@dataclass
class Node:
    state: str
    label: str
    x: int = 0
    y: int = 0
    w: int = 0
    side: str = "main"
    # Vertical positions where edges attach on the left and right border.
    ports: dict = field(default_factory=lambda: {"left": [], "right": []})

    @property
    def cy(self):
        return self.y + NODE_H // 2

    @property
    def right(self):
        return self.x + self.w

    @property
    def cx(self):
        return self.x + self.w // 2


def fsm_edges():
    """Every (transition, source, target) of GrantApplication, in the model's order."""
    edges = []
    for name in transitions.NAMES:
        meta = transition_meta(name)
        for transition in meta.transitions.values():
            edges.append(Edge(transition.name, transition.source, transition.target))
    return edges


def fsm_states():
    return [value for value, _label in GrantApplication._meta.get_field("state").choices]


class Layout:
    def __init__(self, current_state=None):
        labels = dict(GrantApplication._meta.get_field("state").choices)
        self.current = current_state
        self.edges = fsm_edges()
        states = fsm_states()
        self.nodes = {s: Node(s, str(labels.get(s, s))) for s in states}
        for edge in self.edges:
            for s in (edge.source, edge.target):
                self.nodes.setdefault(s, Node(s, s))
        self.main = [s for s in MAIN_PATH if s in self.nodes]
        self.row = {s: i for i, s in enumerate(self.main)}
        self._place()

    def label(self, name):
        return str(transitions.step(name).diagram)

    # ---- classification -----------------------------------------------------------

    def is_main(self, state):
        return state in self.row

    def forward_edges(self):
        return [
            e
            for e in self.edges
            if self.is_main(e.source)
            and self.is_main(e.target)
            and self.row[e.target] == self.row[e.source] + 1
        ]

    def back_edges(self):
        forward = set(self.forward_edges())
        return [
            e for e in self.edges if self.is_main(e.source) and self.is_main(e.target) and e not in forward
        ]

    def side_groups(self):
        """Edges into states off the main path, grouped by (transition, target)."""
        groups = {}
        for e in self.edges:
            if self.is_main(e.source) and not self.is_main(e.target):
                groups.setdefault((e.name, e.target), []).append(e.source)
        return groups

    def loose_edges(self):
        """Edges between two side states (none today; drawn as plain lines if added)."""
        return [e for e in self.edges if not self.is_main(e.source)]

    # ---- placement -------------------------------------------------------------------

    def _place(self):
        groups = self.side_groups()
        side_of = {}
        rows_of = {}
        for (_name, target), sources in groups.items():
            side_of[target] = "left" if target in LEFT_SIDE else "right"
            rows_of.setdefault(target, set()).update(self.row[s] for s in sources)
        for state in self.nodes:
            if not self.is_main(state) and state not in side_of:
                side_of[state] = "left" if state in LEFT_SIDE else "right"
                rows_of[state] = {len(self.main)}

        main_w = max(text_width(self.nodes[s].label, STATE_FONT) for s in self.main) + 32
        side_w = {"left": 0, "right": 0}
        for state, side in side_of.items():
            side_w[side] = max(side_w[side], text_width(self.nodes[state].label, STATE_FONT) + 32)
        gap = {"left": 0, "right": 0}
        for (name, target), _sources in groups.items():
            side = side_of[target]
            gap[side] = max(gap[side], text_width(self.label(name), EDGE_FONT) + 24)
        back_w = max((text_width(self.label(e.name), EDGE_FONT) for e in self.back_edges()), default=0)

        # Lanes: x positions of the vertical "bus" of each merged group, nearest first.
        self.lanes = {}
        lane_count = {"left": 0, "right": 0}
        for key, sources in groups.items():
            if len(sources) > 1:
                side = side_of[key[1]]
                lane_count[side] += 1
                self.lanes[key] = lane_count[side]

        left_x = MARGIN
        bus_room = {side: 18 * lane_count[side] + 12 for side in lane_count}
        main_x = left_x
        if side_w["left"]:
            main_x = left_x + side_w["left"] + gap["left"] + bus_room["left"]
        self.main_x = main_x
        self.main_w = main_w
        arc_room = 44 if self.back_edges() else 0
        # The right-hand buses start clear of the labels of the main path's arrows.
        label_reach = max(
            (main_w // 2 + 10 + text_width(self.label(e.name), EDGE_FONT) for e in self.forward_edges()),
            default=0,
        )
        self.right_bus_x = main_x + max(main_w, label_reach) + 14
        right_x = max(self.right_bus_x + bus_room["right"] + gap["right"], main_x + main_w + arc_room + 8)
        self.arc_room = arc_room

        for state in self.main:
            node = self.nodes[state]
            node.x, node.w, node.y = main_x, main_w, MARGIN + self.row[state] * ROW

        taken = {"left": [], "right": []}
        for state in sorted(side_of, key=lambda s: (sum(rows_of[s]) / len(rows_of[s]), s)):
            node = self.nodes[state]
            side = node.side = side_of[state]
            rows = rows_of[state]
            y = MARGIN + round(sum(rows) / len(rows) * ROW)
            for other in taken[side]:
                if abs(other - y) < NODE_H + 12:
                    y = other + NODE_H + 12
            taken[side].append(y)
            node.y = y
            node.w = side_w[side]
            node.x = left_x if side == "left" else right_x

        self.width = max(n.right for n in self.nodes.values()) + MARGIN
        if self.back_edges():
            self.width = max(self.width, main_x + main_w + arc_room + back_w + 12 + MARGIN)
        self.height = max(n.y for n in self.nodes.values()) + NODE_H + MARGIN

    def bus_x(self, key, side):
        lane = self.lanes.get(key, 1)
        if side == "left":
            return self.main_x - 12 - 18 * (lane - 1)
        return self.right_bus_x + 18 * (lane - 1)


def _port_y(node, side, slot, count):
    """Spread `count` attachments over the node's border, top to bottom."""
    if count <= 1:
        return node.cy
    step = (NODE_H - 16) / (count - 1)
    return round(node.y + 8 + slot * step)


def _attachments(layout):
    """For each (node, side), the edges attached there, ordered by where they lead (up first)."""
    attach = {}
    for e in layout.back_edges():
        src, dst = layout.nodes[e.source], layout.nodes[e.target]
        attach.setdefault((e.source, "right"), []).append((dst.cy, ("back-src", e)))
        attach.setdefault((e.target, "right"), []).append((src.cy, ("back-dst", e)))
    for (name, target), sources in layout.side_groups().items():
        tnode = layout.nodes[target]
        for s in sources:
            attach.setdefault((s, tnode.side), []).append((tnode.cy, ("side", (name, target, s))))
    ports = {}
    for (state, side), items in attach.items():
        items.sort(key=lambda item: item[0])
        node = layout.nodes[state]
        for slot, (_y, ref) in enumerate(items):
            ports[ref] = _port_y(node, side, slot, len(items))
    return ports


def _text(x, y, content, *, size, anchor="middle", fill=INK, weight=None, extra=""):
    attrs = f'x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"'
    if weight:
        attrs += f' font-weight="{weight}"'
    return f"<text {attrs}{extra}>{escape(content)}</text>"


def _arrow_line(points):
    d = "M" + " L".join(f"{x} {y}" for x, y in points)
    return f'<path d="{d}" fill="none" stroke="{EDGE}" stroke-width="1.5" marker-end="url(#wf-arrow)"/>'


def workflow_svg(current_state=None):
    """The workflow as an SVG document (a safe string, ready to inline in a template)."""
    layout = Layout(current_state)
    ports = _attachments(layout)
    nodes = layout.nodes
    title = gettext("Workflow of a grant application")
    lines = []
    for e in layout.edges:
        lines.append(
            gettext("%(transition)s: from %(source)s to %(target)s")
            % {
                "transition": layout.label(e.name),
                "source": nodes[e.source].label,
                "target": nodes[e.target].label,
            }
        )
    desc = "; ".join(lines) + "."
    if current_state in nodes:
        desc = gettext("Current state: %(state)s.") % {"state": nodes[current_state].label} + " " + desc

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" role="img" '
        f'viewBox="0 0 {layout.width} {layout.height}" width="{layout.width}" height="{layout.height}" '
        f'aria-labelledby="wf-title wf-desc" font-family={quoteattr(FONT_FAMILY)}>',
        f'<title id="wf-title">{escape(title)}</title>',
        f'<desc id="wf-desc">{escape(desc)}</desc>',
        "<defs>",
        '<marker id="wf-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        f'orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="{EDGE}"/></marker>',
        "</defs>",
        '<g class="edges">',
    ]

    for e in layout.forward_edges():
        src, dst = nodes[e.source], nodes[e.target]
        x = src.cx
        out.append(
            f'<g class="edge" data-transition="{e.name}" data-source="{e.source}" data-target="{e.target}">'
        )
        out.append(_arrow_line([(x, src.y + NODE_H), (x, dst.y - 1)]))
        mid = (src.y + NODE_H + dst.y) // 2 + EDGE_FONT // 3
        out.append(_text(x + 10, mid, layout.label(e.name), size=EDGE_FONT, anchor="start"))
        out.append("</g>")

    for e in layout.back_edges():
        src, dst = nodes[e.source], nodes[e.target]
        y1, y0 = ports[("back-src", e)], ports[("back-dst", e)]
        x = src.right
        bend = x + layout.arc_room
        out.append(
            f'<g class="edge" data-transition="{e.name}" data-source="{e.source}" data-target="{e.target}">'
        )
        out.append(
            f'<path d="M{x} {y1} C{bend} {y1} {bend} {y0} {dst.right + 1} {y0}" fill="none" '
            f'stroke="{EDGE}" stroke-width="1.5" stroke-dasharray="5 3" marker-end="url(#wf-arrow)"/>'
        )
        label_x = x + round(layout.arc_room * 0.75) + 6
        out.append(
            _text(
                label_x, (y0 + y1) // 2 + EDGE_FONT // 3, layout.label(e.name), size=EDGE_FONT, anchor="start"
            )
        )
        out.append("</g>")

    for (name, target), sources in layout.side_groups().items():
        tnode = nodes[target]
        side = tnode.side
        edge_x = tnode.right if side == "left" else tnode.x
        out.append(
            f'<g class="edge" data-transition="{name}" data-source="{" ".join(sources)}" data-target="{target}">'
        )
        if len(sources) == 1:
            src = nodes[sources[0]]
            y = ports[("side", (name, target, sources[0]))]
            start_x = src.x if side == "left" else src.right
            points = [(start_x, y)]
            if y != tnode.cy:
                mid_x = (start_x + edge_x) // 2
                points += [(mid_x, y), (mid_x, tnode.cy)]
            step = 1 if side == "left" else -1
            points.append((edge_x + step, tnode.cy))
            out.append(_arrow_line(points))
            label_from = points[-2][0]
        else:
            bus = layout.bus_x((name, target), side)
            ys = []
            for s in sources:
                src = nodes[s]
                y = ports[("side", (name, target, s))]
                ys.append(y)
                start_x = src.x if side == "left" else src.right
                out.append(
                    f'<path d="M{start_x} {y} L{bus} {y}" fill="none" stroke="{EDGE}" stroke-width="1.5"/>'
                )
            top, bottom = min(ys + [tnode.cy]), max(ys + [tnode.cy])
            out.append(
                f'<path d="M{bus} {top} L{bus} {bottom}" fill="none" stroke="{EDGE}" stroke-width="1.5"/>'
            )
            for y in ys:
                if top < y < bottom or y == tnode.cy:
                    out.append(f'<circle cx="{bus}" cy="{y}" r="3" fill="{EDGE}"/>')
            step = 1 if side == "left" else -1
            out.append(_arrow_line([(bus, tnode.cy), (edge_x + step, tnode.cy)]))
            label_from = bus
        label_x = (label_from + edge_x) // 2
        out.append(_text(label_x, tnode.cy - 6, layout.label(name), size=EDGE_FONT))
        out.append("</g>")

    for e in layout.loose_edges():
        src, dst = nodes[e.source], nodes[e.target]
        out.append(
            f'<g class="edge" data-transition="{e.name}" data-source="{e.source}" data-target="{e.target}">'
        )
        out.append(_arrow_line([(src.cx, src.y + NODE_H), (dst.cx, dst.y - 1)]))
        out.append(
            _text(
                (src.cx + dst.cx) // 2 + 6,
                (src.y + NODE_H + dst.y) // 2,
                layout.label(e.name),
                size=EDGE_FONT,
            )
        )
        out.append("</g>")
    out.append("</g>")

    out.append('<g class="states">')
    for state, node in nodes.items():
        current = state == current_state
        is_end = not layout.is_main(state) or state in State.ENDS
        fill, stroke, ink = (
            (MAIN_FILL, MAIN_STROKE, INK) if layout.is_main(state) else (END_FILL, END_STROKE, INK)
        )
        css = "state" + (" end" if is_end else "") + (" current" if current else "")
        width = 1.5
        if current:
            fill, stroke, ink, width = CURRENT_FILL, CURRENT_FILL, CURRENT_TEXT, 3
        marks = ' aria-current="step"' if current else ""
        out.append(f'<g class="{css}" data-state="{state}"{marks}>')
        out.append(
            f'<rect x="{node.x}" y="{node.y}" width="{node.w}" height="{NODE_H}" rx="{NODE_H // 2 if is_end else 8}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
        )
        out.append(
            _text(
                node.cx,
                node.cy + STATE_FONT // 3 + 1,
                node.label,
                size=STATE_FONT,
                fill=ink,
                weight="bold" if current else None,
            )
        )
        out.append("</g>")
    out.append("</g>")
    out.append("</svg>")
    return mark_safe("\n".join(out) + "\n")  # noqa: S308 (every label above is escaped)
