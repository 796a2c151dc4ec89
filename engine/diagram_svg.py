"""The template's diagram as a self-contained SVG, laid out and drawn here (no external renderer).

The main path runs top to bottom, one stage to a row: the stages the initial stage reaches by
ordinary moves, ordered by longest-path layer (so a stage sits below every stage that leads to
it, moves back aside). A move to the next row is a straight arrow; moves back up, moves that skip
rows and self-loops curve round the left of the boxes, nested, labelled in the gaps between
rows. A move from `MANY` or more stages (pause, withdraw) is drawn once: a bracket with a tick to
each source stage, and one labelled arrow from it. Stages reached only that way (on hold,
withdrawn) stand in a lane to the right, half a row down. The `<desc>` has every stage and move.

Styling is carried by presentation attributes as well as the `<style>` element, so the diagram
looks the same on pages whose Content-Security-Policy refuses inline styles; `STYLE_CSP_SOURCE`
is the hash source that lets a policy accept that one `<style>`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from engine.template import Template, Transition

__all__ = ["MANY", "STYLE_CSP_SOURCE", "svg"]

MANY = 3
"""A move from at least this many stages is drawn once, from a bracket beside its sources."""

_TITLE_SIZE, _TITLE_LH, _TITLE_LINES = 16, 20, 3
_LABEL_SIZE, _LABEL_LH, _LABEL_LINES, _LABEL_W = 14, 17, 3, 150
_BOX_W, _PAD, _ARC_GAP, _MARGIN = 232, 10, 22, 12
_NOW, _DONE = "current", "done"  # the classes of marked stages
_FONTS = "Arial, Helvetica, Liberation Sans, Arimo, sans-serif"

# --- text: XML safety, width estimates, wrapping -------------------------------------------------

_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot carry at all, not even as references (controls, lone surrogates)."""


def _clean(text: str) -> str:
    return " ".join(_ILLEGAL.sub("\ufffd", text).split())


def _esc(text: str) -> str:
    # html.escape rather than xml.sax.saxutils: same entities, and it imports no I/O modules.
    return html.escape(_ILLEGAL.sub("\ufffd", text), quote=True)


# Advance widths of Arial/Helvetica (and the metric-compatible Liberation Sans, Arimo) in 1/1000 em.
_ARIAL = dict(
    zip(
        "".join(chr(c) for c in range(32, 127)),
        (278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278)
        + (556,) * 10
        + (278, 278, 584, 584, 584, 556, 1015)
        + (667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833)
        + (722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611)
        + (278, 278, 278, 469, 556, 333)
        + (556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833)
        + (556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500)
        + (334, 260, 334, 584),
        strict=True,
    )
)
_SLACK = 1.1
"""Room for fallback fonts wider than Arial (DejaVu Sans is about a tenth wider)."""


def _width(text: str, size: float) -> float:
    total = 0
    for ch in text:
        w = _ARIAL.get(ch)
        if w is None:
            wide = unicodedata.east_asian_width(ch) in "WF"
            w = 0 if unicodedata.combining(ch) else 1000 if wide else 600
        total += w
    return total * size * _SLACK / 1000


def _pieces(word: str, size: float, width: float) -> list[tuple[str, bool]]:
    """A word as pieces that fit `width` (after hyphens, else by characters); True: no space."""
    if _width(word, size) <= width:
        return [(word, False)]
    out: list[tuple[str, bool]] = []
    for part in re.findall(r"[^-]*-|[^-]+", word):
        while part:
            n = len(part)
            while n > 1 and _width(part[:n], size) > width:
                n -= 1
            out.append((part[:n], bool(out)))
            part = part[n:]
    return out


def _wrap(text: str, size: float, width: float, max_lines: int) -> tuple[list[str], bool]:
    """`text` on at most `max_lines` lines of `width`; True when it had to be cut short."""
    lines: list[str] = []
    for word in text.split(" "):
        for piece, glued in _pieces(word, size, width):
            joined = lines[-1] + ("" if glued else " ") + piece if lines else piece
            if lines and _width(joined, size) <= width:
                lines[-1] = joined
            else:
                lines.append(piece)
    if len(lines) <= max_lines:
        return lines or [""], False
    last = lines[max_lines - 1]
    while last and _width(last + "…", size) > width:
        last = last[:-1]
    return [*lines[: max_lines - 1], last.rstrip() + "…"], True


# --- paint: one table gives both the <style> and the presentation attributes ---------------------

_RULES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("", "box", (("fill", "#ffffff"), ("stroke", "#505a5f"), ("stroke-width", "2"))),
    ("done", "box", (("fill", "#f3f2f1"),)),
    ("current", "box", (("stroke", "#1d70b8"), ("stroke-width", "4"))),
    ("", "inner", (("fill", "none"), ("stroke", "#505a5f"), ("stroke-width", "1.5"))),
    ("current", "inner", (("stroke", "#1d70b8"),)),
    ("", "title", (("fill", "#0b0c0c"), ("font-size", f"{_TITLE_SIZE}px"))),
    ("done", "title", (("fill", "#505a5f"),)),
    ("", "status", (("fill", "#0b0c0c"), ("font-size", "14px"), ("font-weight", "bold"))),
    ("current", "status", (("fill", "#1d70b8"),)),
    ("done", "status", (("fill", "#00703c"),)),
    ("", "line", (("fill", "none"), ("stroke", "#505a5f"), ("stroke-width", "1.5"))),
    ("", "head", (("fill", "#505a5f"),)),
    ("", "start", (("fill", "#0b0c0c"),)),
    (
        "",
        "label",
        (
            ("fill", "#0b0c0c"),
            ("font-size", f"{_LABEL_SIZE}px"),
            ("stroke", "#ffffff"),
            ("stroke-width", "4"),
            ("stroke-linejoin", "round"),
            ("paint-order", "stroke"),
        ),
    ),
    ("", "caption", (("fill", "#505a5f"), ("font-size", "13px"), ("font-style", "italic"))),
)

_CSS = "".join(
    f".pl-diagram {'.' + state + ' ' if state else ''}.{cls}{{"
    + ";".join(f"{k}:{v}" for k, v in paint)
    + "}"
    for state, cls, paint in _RULES
)
STYLE_CSP_SOURCE = (
    "'sha256-" + base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode() + "'"
)
"""The `style-src` source that lets a Content-Security-Policy accept the diagram's `<style>`."""


def _paint(cls: str, states: Sequence[str] = ()) -> str:
    merged: dict[str, str] = {}
    for state, rule_cls, paint in _RULES:
        if rule_cls == cls and (not state or state in states):
            merged.update(paint)
    return f'class="{cls}" ' + " ".join(f'{k}="{v}"' for k, v in merged.items())


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


# --- geometry ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass(frozen=True, slots=True)
class _Label:
    lines: tuple[str, ...]
    full: str
    width: float

    @property
    def height(self) -> float:
        return len(self.lines) * _LABEL_LH


def _label(titles: Sequence[str], width: float = _LABEL_W) -> _Label:
    lines: list[str] = []
    for title in titles:
        lines += _wrap(title, _LABEL_SIZE, width, _LABEL_LINES)[0]
    widest = max(_width(line, _LABEL_SIZE) for line in lines)
    return _Label(tuple(lines), " / ".join(titles), widest)


def _route(points: Sequence[tuple[float, float]], radius: float = 10) -> str:
    """An orthogonal polyline through `points` as a path with rounded corners."""
    pts: list[tuple[float, float]] = []
    for p in points:
        if pts and p == pts[-1]:
            continue
        if len(pts) >= 2 and (pts[-2][0] == pts[-1][0] == p[0] or pts[-2][1] == pts[-1][1] == p[1]):
            pts[-1] = p  # straight on: no corner here
        else:
            pts.append(p)
    out = [f"M{_n(pts[0][0])} {_n(pts[0][1])}"]
    for i in range(1, len(pts) - 1):
        (ax, ay), (px, py), (bx, by) = pts[i - 1], pts[i], pts[i + 1]
        d_in, d_out = abs(px - ax) + abs(py - ay), abs(bx - px) + abs(by - py)
        r = min(radius, d_in / 2, d_out / 2)
        ux, uy = (px - ax) / d_in, (py - ay) / d_in
        vx, vy = (bx - px) / d_out, (by - py) / d_out
        out.append(f"L{_n(px - ux * r)} {_n(py - uy * r)}")
        out.append(f"Q{_n(px)} {_n(py)} {_n(px + vx * r)} {_n(py + vy * r)}")
    out.append(f"L{_n(pts[-1][0])} {_n(pts[-1][1])}")
    return "".join(out)


@dataclass(slots=True)
class _Ports:
    """Where lines meet a box's sides: asked for first, then spread evenly in key order."""

    wants: dict[tuple[str, str], list[tuple[tuple[float, ...], int]]] = field(default_factory=dict)
    spans: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    count: int = 0

    def ask(self, stage: str, side: str, key: tuple[float, ...]) -> int:
        self.count += 1
        self.wants.setdefault((stage, side), []).append((key, self.count))
        return self.count

    def resolve(self, boxes: dict[str, _Box]) -> dict[int, tuple[float, float]]:
        at: dict[int, tuple[float, float]] = {}
        for (stage, side), wants in self.wants.items():
            b = boxes[stage]
            lo, hi = self.spans.get((stage, side), (0.0, 1.0))
            for i, (_, ticket) in enumerate(sorted(wants)):
                f = lo + (hi - lo) * (i + 1) / (len(wants) + 1)
                at[ticket] = {
                    "l": (b.x, b.y + b.h * f),
                    "r": (b.right, b.y + b.h * f),
                    "t": (b.x + b.w * f, b.y),
                    "b": (b.x + b.w * f, b.bottom),
                }[side]
        return at


# --- layout --------------------------------------------------------------------------------------


def _sources(t: Transition) -> list[str]:
    return list(dict.fromkeys(t.sources))


def _main_path(template: Template) -> dict[str, int]:
    """Each main-path stage's place, top to bottom: by layer, then beside what leads to it.

    The main path is what the initial stage reaches by moves from fewer than `MANY` stages.
    Layers are longest paths from the initial stage once the back edges (found by a depth-first
    walk in template order, so the result is deterministic) are set aside; within a layer, stages
    follow the mean place of the stages leading to them, then template order.
    """
    succ: dict[str, list[str]] = {s.id: [] for s in template.stages}
    for t in template.transitions:
        srcs = _sources(t)
        for src in srcs if len(srcs) < MANY else ():
            if t.dest != src and t.dest not in succ[src]:
                succ[src].append(t.dest)
    start = template.initial_stage.id
    on_stack = {start: True}
    back: set[tuple[str, str]] = set()
    stack = [(start, iter(succ[start]))]
    while stack:
        node, todo = stack[-1]
        for nxt in todo:
            if nxt not in on_stack:
                on_stack[nxt] = True
                stack.append((nxt, iter(succ[nxt])))
                break
            if on_stack[nxt]:
                back.add((node, nxt))
        else:
            on_stack[node] = False
            stack.pop()
    order = [s.id for s in template.stages if s.id in on_stack]
    indegree = dict.fromkeys(order, 0)
    for u in order:
        for v in succ[u]:
            indegree[v] += (u, v) not in back
    layer = dict.fromkeys(order, 0)
    ready = [v for v in order if indegree[v] == 0]
    while ready:
        u = ready.pop(0)
        for v in succ[u]:
            if (u, v) not in back:
                layer[v] = max(layer[v], layer[u] + 1)
                indegree[v] -= 1
                if indegree[v] == 0:
                    ready.append(v)
    preds = {v: [u for u in order if v in succ[u] and (u, v) not in back] for v in order}
    place: dict[str, int] = {}
    for k in sorted(set(layer.values())):

        def mean(v: str) -> float:
            return sum(place[u] for u in preds[v]) / len(preds[v]) if preds[v] else 0.0

        for v in sorted(
            (v for v in order if layer[v] == k), key=lambda v: (mean(v), order.index(v))
        ):
            place[v] = len(place)
    return place


def _side_rows(template: Template, layer: dict[str, int]) -> dict[str, int]:
    """Rows for the stages off the main path: each beside the first stage that leads to it."""
    index = {s.id: i for i, s in enumerate(template.stages)}
    pending = [s.id for s in template.stages if s.id not in layer]
    preds: dict[str, list[str]] = {s: [] for s in pending}
    for t in template.transitions:
        if t.dest in preds:
            preds[t.dest] += [p for p in _sources(t) if p != t.dest]
    row: dict[str, int] = {}
    floor = 0
    while pending:
        options = []
        for s in pending:
            wants = [layer[p] for p in preds[s] if p in layer]
            wants += [row[p] + 1 for p in preds[s] if p in row]
            if wants:
                options.append((min(wants), index[s], s))
        want, _, pick = min(options) if options else (0, 0, pending[0])
        row[pick] = floor = max(want, floor)
        floor += 1
        pending.remove(pick)
    return row


def _levels(spans: Sequence[tuple[int, int]]) -> list[int]:
    """Nested arcs: the shortest innermost; arcs whose spans meet get different levels."""
    level: dict[int, int] = {}
    for i in sorted(range(len(spans)), key=lambda i: (spans[i][1] - spans[i][0], spans[i][0], i)):
        lo, hi = spans[i]
        taken = {level[j] for j in level if spans[j][0] <= hi and lo <= spans[j][1]}
        level[i] = next(n for n in range(len(spans) + 1) if n not in taken)
    return [level[i] for i in range(len(spans))]


# --- drawing -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Canvas:
    head: str
    lines: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    extent: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])

    def grow(self, x0: float, y0: float, x1: float, y1: float) -> None:
        e = self.extent
        e[:] = [min(e[0], x0), min(e[1], y0), max(e[2], x1), max(e[3], y1)]

    def move(self, tip: str, points: Sequence[tuple[float, float]], arrow: bool = True) -> None:
        for x, y in points:
            self.grow(x, y, x, y)
        end = f' marker-end="url(#{self.head})"' if arrow else ""
        self.lines.append(
            f'<g class="move"><title>{_esc(tip)}</title>'
            f'<path d="{_route(points)}" {_paint("line")}{end}/></g>'
        )

    def label(
        self, tip: str, lab: _Label, x: float, yc: float, anchor: str = "start", cls: str = "label"
    ) -> None:
        x0 = {"start": x, "middle": x - lab.width / 2, "end": x - lab.width}[anchor]
        self.grow(x0, yc - lab.height / 2, x0 + lab.width, yc + lab.height / 2)
        top = yc - (len(lab.lines) - 1) * _LABEL_LH / 2 + _LABEL_SIZE * 0.35
        spans = "".join(
            f'<tspan x="{_n(x)}" y="{_n(top + i * _LABEL_LH)}">{_esc(line)}</tspan>'
            for i, line in enumerate(lab.lines)
        )
        self.labels.append(
            f'<g class="move-label"><title>{_esc(tip)}</title>'
            f'<text {_paint(cls)} text-anchor="{anchor}">{spans}</text></g>'
        )


def _in_words(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _sentence(text: str) -> str:
    return text if text[-1:] in ".!?" else text + "."


def _stage_svg(box: _Box, name: str, wrapped: list[str], states: list[str], sid: str) -> str:
    status = "You are here" if "current" in states else "✓ Done" if "done" in states else ""
    tip = name + (f" ({status.lstrip('✓ ').lower()})" if status else "")
    parts = [
        f'<g class="{" ".join(["stage", *states])}" data-stage="{_esc(sid)}">',
        f"<title>{_esc(tip)}</title>",
        f'<rect {_paint("box", states)} x="{_n(box.x)}" y="{_n(box.y)}" '
        f'width="{_n(box.w)}" height="{_n(box.h)}" rx="4"/>',
    ]
    if "terminal" in states:
        inset = 6 if "current" in states else 4
        parts.append(
            f'<rect {_paint("inner", states)} x="{_n(box.x + inset)}" y="{_n(box.y + inset)}" '
            f'width="{_n(box.w - 2 * inset)}" height="{_n(box.h - 2 * inset)}" rx="2"/>'
        )
    rows = len(wrapped) + bool(status)
    first = box.cy - (rows - 1) * _TITLE_LH / 2 + _TITLE_SIZE * 0.35
    spans = "".join(
        f'<tspan x="{_n(box.cx)}" y="{_n(first + i * _TITLE_LH)}">{_esc(line)}</tspan>'
        for i, line in enumerate(wrapped)
    )
    parts.append(f'<text {_paint("title", states)} text-anchor="middle">{spans}</text>')
    if status:
        y = first + len(wrapped) * _TITLE_LH
        parts.append(
            f'<text {_paint("status", states)} x="{_n(box.cx)}" y="{_n(y)}" '
            f'text-anchor="middle">{status}</text>'
        )
    return "".join(parts) + "</g>"


_At = dict[int, tuple[float, float]]


def _draw_step(c: _Canvas, at: _At, a: int, b: int, tip: str, lab: _Label) -> None:
    """A move to the next stage down: a straight arrow, labelled on its right."""
    (x1, y1), (x2, y2) = at[a], at[b]
    c.move(tip, [(x1, y1), (x2, y2)])
    c.label(tip, lab, max(x1, x2) + 8, (y1 + y2) / 2)


def _draw_arc(
    c: _Canvas, at: _At, a: int, b: int, x: float, tip: str, lab: _Label, yc: float | None = None
) -> None:
    """A move round the side of the boxes at upright `x`, labelled at `yc` (or half way).

    Left of the main path the label stands left of the upright; elsewhere, right of it.
    """
    (x1, y1), (x2, y2) = at[a], at[b]
    c.move(tip, [(x1, y1), (x, y1), (x, y2), (x2, y2)])
    left = x < min(x1, x2)
    y = (y1 + y2) / 2 if yc is None else yc
    c.label(tip, lab, x - 6 if left else x + 6, y, "end" if left else "start")


def _draw_channel(
    c: _Canvas, at: _At, a: int, b: int, x: float, side: tuple[int, float], tip: str, lab: _Label
) -> None:
    """A move between the main path and the side lane, labelled by its side-lane end.

    `side` is that end's port and its box's middle.
    """
    (x1, y1), (x2, y2) = at[a], at[b]
    c.move(tip, [(x1, y1), (x, y1), (x, y2), (x2, y2)])
    c.label(tip, lab, x + 6, _by_line(at[side[0]][1], side[1], lab))


def _by_line(y: float, middle: float, lab: _Label) -> float:
    """Where a label goes beside a line into a box's side: above, or below in the lower half."""
    return y + 6 + lab.height / 2 if y > middle + 1 else y - 6 - lab.height / 2


def _draw_over(c: _Canvas, at: _At, a: int, b: int, y: float, tip: str, lab: _Label) -> None:
    """A move from the side lane back to the initial stage, over the top of the diagram."""
    (x1, y1), (x2, y2) = at[a], at[b]
    c.move(tip, [(x1, y1), (x1, y), (x2, y), (x2, y2)])
    c.label(tip, lab, (x1 + x2) / 2, y - 6 - lab.height / 2, "middle")


def _draw_bracket(
    c: _Canvas,
    at: _At,
    ticks: Sequence[int],
    x: float,
    arrows: Sequence[tuple[int, str, _Label, float | None]],
    caption: _Label | None,
    tip: str,
) -> None:
    """Ticks from each source stage to one upright, and one arrow from it per destination."""
    ys = [at[t][1] for t in ticks]
    d = "".join(f"M{_n(at[t][0])} {_n(at[t][1])}H{_n(x)}" for t in ticks)
    c.lines.append(
        f'<g class="move many"><title>{_esc(tip)}</title>'
        f'<path d="{d}M{_n(x)} {_n(min(ys))}V{_n(max(ys))}" {_paint("line")}/></g>'
    )
    if caption is not None:
        c.label(tip, caption, x + 8, min(ys) - 6 - caption.height / 2, cls="caption")
    for t, arrow_tip, lab, middle in arrows:
        px, py = at[t]
        c.move(arrow_tip, [(x, min(max(py, min(ys)), max(ys))), (x, py), (px, py)])
        c.label(arrow_tip, lab, x + 8, py if middle is None else _by_line(py, middle, lab))


def _draw_start(c: _Canvas, box: _Box, tip: str) -> None:
    """A dot and an arrow into the initial stage, as in a state diagram."""
    c.lines.append(
        f'<g class="start"><title>{_esc(tip)}</title>'
        f'<circle {_paint("start")} cx="{_n(box.cx)}" cy="{_n(box.y - 32)}" r="7"/>'
        f'<path d="M{_n(box.cx)} {_n(box.y - 25)}V{_n(box.y)}" {_paint("line")} '
        f'marker-end="url(#{c.head})"/></g>'
    )
    c.label(tip, _label(["Start"]), box.cx - 14, box.y - 32, "end", "caption")


def _diagram_id(template: Template, marked: Sequence[str]) -> str:
    """An id for the diagram's elements: readable, and different for each marking of a cycle."""
    key = "\x1f".join([template.key, *marked])
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", template.id)[:32]
    return f"pl-{slug}-v{template.version}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def svg(template: Template, current: str | None = None, *, done: Iterable[str] = ()) -> str:
    """The template's stages and moves as one `<svg>` element, to inline in an HTML page.

    Args:
        template: the template to draw.
        current: the stage a cycle is in, marked "You are here" (ignored if not a stage).
        done: stages the cycle has finished, marked "✓ Done".

    Returns:
        The same string for the same arguments: no XML declaration, `role="img"` labelled by its
        `<title>` and by a `<desc>` that lists every stage and every move in words.
    """
    stages = template.stages
    now = current if current is not None and template.has_stage(current) else None
    finished = set(done)
    index = {s.id: i for i, s in enumerate(stages)}
    names = {s.id: _clean(s.title) or _clean(s.id) for s in stages}
    moves = {t.id: _clean(t.title) or _clean(t.id) for t in template.transitions}
    states: dict[str, list[str]] = {}
    for s in stages:
        mark = [_NOW] if s.id == now else [_DONE] if s.id in finished else []
        states[s.id] = mark + (["terminal"] if s.terminal else [])
    marks = [f"{states[s.id][0]}:{s.id}" for s in stages if states[s.id][:1] in ([_NOW], [_DONE])]
    pid = _diagram_id(template, marks)

    layer = _main_path(template)  # a place per stage: one stage to a row
    row = _side_rows(template, layer)
    edges: dict[tuple[str, str], list[Transition]] = {}
    brackets: dict[tuple[str, ...], dict[str, list[Transition]]] = {}
    for t in template.transitions:
        srcs = _sources(t)
        on_path = sorted((s for s in srcs if s in layer), key=lambda s: (layer[s], index[s]))
        if len(srcs) >= MANY and len(on_path) >= 2:
            brackets.setdefault(tuple(on_path), {}).setdefault(t.dest, []).append(t)
            srcs = [s for s in srcs if s not in layer]
        for src in srcs:
            edges.setdefault((src, t.dest), []).append(t)

    def titles(ts: Sequence[Transition]) -> list[str]:
        return [moves[t.id] for t in ts]

    def tip(src: str, dest: str, ts: Sequence[Transition]) -> str:
        where = f"Within {names[src]}" if src == dest else f"From {names[src]} to {names[dest]}"
        return where + ": " + " / ".join(titles(ts))

    Edge = tuple[str, str, list[Transition]]
    steps: list[Edge] = []
    arcs: list[Edge] = []
    side_arcs: list[Edge] = []
    over: list[Edge] = []
    channel: list[Edge] = []
    for (src, dest), ts in edges.items():
        if src in layer and dest in layer:
            (steps if layer[dest] == layer[src] + 1 else arcs).append((src, dest, ts))
        elif src in row and dest in row:
            (steps if row[dest] == row[src] + 1 else side_arcs).append((src, dest, ts))
        else:
            # Back to the top stage over the top, if nothing in the side lane is in the way.
            clear = src in row and row[src] == min(row.values())
            (over if clear and layer.get(dest) == 0 else channel).append((src, dest, ts))

    # Boxes: one height for all; room between layers for the labels of the one-step arrows.
    wrapped = {
        s.id: _wrap(names[s.id], _TITLE_SIZE, _BOX_W - 2 * _PAD, _TITLE_LINES)[0] for s in stages
    }
    bh = 2 * _PAD + (max(len(w) for w in wrapped.values()) + bool(marks)) * _TITLE_LH
    step_labels = [_label(titles(ts), _BOX_W / 2 + 20) for _, _, ts in steps]
    arc_labels = [[_label(titles(ts), 120) for _, _, ts in items] for items in (arcs, side_arcs)]
    tallest = [lab.height for lab in step_labels + arc_labels[0] + arc_labels[1]]
    pitch = bh + max([56.0] + [h + 28 for h in tallest])
    boxes = {sid: _Box(-_BOX_W / 2, n * pitch, _BOX_W, bh) for sid, n in layer.items()}
    main_left, main_right = -_BOX_W / 2, _BOX_W / 2
    bracket_x = [main_right + 36 + j * 12 for j in range(len(brackets))]
    channel_x = [(bracket_x or [main_right])[-1] + 16 + k * 12 for k in range(len(channel))]
    wide = [[_label(titles(ts), 170) for ts in by_dest.values()] for by_dest in brackets.values()]
    channel_labels = [_label(titles(ts)) for _, _, ts in channel]
    room = max([60.0] + [lab.width + 30 for labs in wide for lab in labs])
    room = max([room] + [lab.width + 30 for lab in channel_labels])
    side_x = (channel_x or bracket_x or [main_right])[-1] + room
    for sid, r in row.items():
        # Half a row down: an arrow from a bracket then leaves it between two ticks, never in
        # line with one (which would read as a move from that one stage).
        boxes[sid] = _Box(side_x, (r + 0.5) * pitch, _BOX_W, bh)

    # Ask where each line meets its boxes, then draw once every side's ports are spread out.
    ports = _Ports()
    initial = template.initial_stage.id
    ports.spans[(initial, "t")] = (0.5, 1.0)
    draws: list[Callable[[_Canvas, _At], None]] = []
    for (src, dest, ts), lab in zip(steps, step_labels, strict=True):
        a = ports.ask(src, "b", (boxes[dest].cx, index[dest]))
        b = ports.ask(dest, "t", (boxes[src].cx, index[src]))
        draws.append(partial(_draw_step, a=a, b=b, tip=tip(src, dest, ts), lab=lab))

    # Arcs round the left of the main path (moves back, moves that skip, self-loops) and round
    # the right of the side lane: nested by span, each level's labels in a column of its own.
    # Labels stand in the gaps between rows, where no line runs across (lines meet box sides).
    for items, labs, where, sign, edge, offset in (
        (arcs, arc_labels[0], layer, -1, main_left, 0.0),
        (side_arcs, arc_labels[1], row, 1, side_x + _BOX_W, 0.5),
    ):
        spans = [(min(where[s], where[d]), max(where[s], where[d])) for s, d, _ in items]
        levels = _levels(spans)
        track = [edge + sign * _ARC_GAP]
        for n in range(1, max(levels, default=0) + 1):
            widest = max(lab.width for lab, lv in zip(labs, levels, strict=True) if lv == n - 1)
            track.append(track[-1] + sign * (widest + 6 + _ARC_GAP))
        side = "l" if sign < 0 else "r"
        for (src, dest, ts), lv, lab in zip(items, levels, labs, strict=True):
            ends: list[int] = []
            for me, other, end in ((src, dest, 0), (dest, src, 1)):
                up = where[other] < where[me]
                order = (1.0, lv, end) if me == other else (0.0, lv) if up else (2.0, -lv)
                ends.append(ports.ask(me, side, order))
            lo, hi = min(where[src], where[dest]), max(where[src], where[dest])
            gap = (lo + hi - 1) // 2 if lo < hi else lo - 1 if lo > 0 else 0
            yc = (gap + offset) * pitch + bh + (pitch - bh) / 2
            arc = partial(_draw_arc, a=ends[0], b=ends[1], x=track[lv], tip=tip(src, dest, ts))
            draws.append(partial(arc, lab=lab, yc=yc))

    y = -18.0
    for src, dest, ts in over:
        lab = _label(titles(ts), max(_LABEL_W, boxes[src].x - boxes[dest].cx))
        a = ports.ask(src, "t", (boxes[dest].cx, index[dest]))
        b = ports.ask(dest, "t", (boxes[src].cx, index[src]))
        draws.append(partial(_draw_over, a=a, b=b, y=y, tip=tip(src, dest, ts), lab=lab))
        y -= lab.height + 14

    for (src, dest, ts), x, lab in zip(channel, channel_x, channel_labels, strict=True):
        a = ports.ask(src, "l" if src in row else "r", (boxes[dest].cy, index[dest]))
        b = ports.ask(dest, "l" if dest in row else "r", (boxes[src].cy, index[src]))
        near = (a, boxes[src].cy) if src in row else (b, boxes[dest].cy)
        joins = partial(_draw_channel, a=a, b=b, x=x, side=near, tip=tip(src, dest, ts))
        draws.append(partial(joins, lab=lab))

    for (group, by_dest), x, labs in zip(brackets.items(), bracket_x, wide, strict=True):
        ticks = [ports.ask(s, "r", (boxes[s].cy, x)) for s in group]
        top, bottom = boxes[group[0]].cy, boxes[group[-1]].cy
        arrows: list[tuple[int, str, _Label, float | None]] = []
        for (dest, ts), lab in zip(by_dest.items(), labs, strict=True):
            y_near = min(max(boxes[dest].cy, top), bottom)
            ticket = ports.ask(dest, "l" if dest in row else "r", (y_near + 0.5, x))
            whence = f"From {_in_words([names[s] for s in group])} to {names[dest]}"
            middle = boxes[dest].cy if dest in row else None
            arrows.append((ticket, whence + ": " + " / ".join(titles(ts)), lab, middle))
        everything = " / ".join(moves[t.id] for ts in by_dest.values() for t in ts)
        # One bracket gets a caption; beside several, captions would collide with the arrows.
        words = [f"From any of these {len(group)} stages"]
        caption = _label(words, 180) if len(brackets) == 1 else None
        draws.append(
            partial(
                _draw_bracket,
                ticks=ticks,
                x=x,
                arrows=arrows,
                caption=caption,
                tip=f"From {_in_words([names[s] for s in group])}: {everything}",
            )
        )

    canvas = _Canvas(pid + "-head")
    for box in boxes.values():
        canvas.grow(box.x, box.y, box.right, box.bottom)
    at = ports.resolve(boxes)
    for draw in draws:
        draw(canvas, at)
    _draw_start(canvas, boxes[initial], f"Cycles start at {names[initial]}")

    body = "".join(
        _stage_svg(boxes[s.id], names[s.id], wrapped[s.id], states[s.id], s.id) for s in stages
    )
    x0, y0, x1, y1 = canvas.extent
    view = " ".join(
        _n(v) for v in (x0 - _MARGIN, y0 - _MARGIN, x1 - x0 + 2 * _MARGIN, y1 - y0 + 2 * _MARGIN)
    )
    title = (
        f"Diagram of {_clean(template.title) or _clean(template.id)} (version {template.version})"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{pid}" class="pl-diagram" viewBox="{view}" '
        f'width="100%" role="img" aria-labelledby="{pid}-title {pid}-desc" font-family="{_FONTS}">'
        f'<title id="{pid}-title">{_esc(title)}</title>'
        f'<desc id="{pid}-desc">{_esc(_describe(template, names, moves, states))}</desc>'
        f"<style>{_CSS}</style>"
        f'<defs><marker id="{pid}-head" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="10" '
        f'markerHeight="10" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0 0L10 5L0 10z" {_paint("head")}/></marker></defs>'
        f'<g class="moves">{"".join(canvas.lines)}</g><g class="stages">{body}</g>'
        f'<g class="labels">{"".join(canvas.labels)}</g></svg>'
    )


def _describe(
    template: Template, names: dict[str, str], moves: dict[str, str], states: dict[str, list[str]]
) -> str:
    """Every stage and every move in words: what a screen reader says, and the text fallback."""
    stage_words = []
    for s in template.stages:
        notes = ["cycles start here"] if s.initial else []
        notes += ["you are here"] if "current" in states[s.id] else []
        notes += ["done"] if "done" in states[s.id] else []
        notes += ["the cycle ends here"] if s.terminal else []
        stage_words.append(names[s.id] + (f" ({'; '.join(notes)})" if notes else ""))
    lines = [
        f"{_clean(template.title) or _clean(template.id)}, version {template.version}: "
        f"{len(template.stages)} stages and {len(template.transitions)} moves.",
        "Stages: " + "; ".join(stage_words) + ".",
        "Moves:",
    ]
    for t in template.transitions:
        srcs = [names[s] for s in _sources(t)]
        lines.append(_sentence(f"From {_in_words(srcs)} to {names[t.dest]}: {moves[t.id]}"))
    return "\n".join(lines)
