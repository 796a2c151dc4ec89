"""Diagrams of templates: Mermaid text, and SVG drawn by Peerloop itself (`diagram_svg.svg`).

Written here rather than through `transitions`' GraphMachine: that one labels states by id, needs
a bound model, and emits `Class` lines that Mermaid's state diagrams do not read.
"""

from __future__ import annotations

import re

from engine.diagram_svg import svg
from engine.template import Template

__all__ = ["mermaid", "svg"]


def _node(stage_id: str) -> str:
    # Mermaid ids allow letters, digits and underscores only; keep them unique with a prefix.
    return "s_" + re.sub(r"[^A-Za-z0-9_]", "_", stage_id)


def _nodes(template: Template) -> dict[str, str]:
    """Each stage's node name; ids that differ only in '.', '-' or '_' get distinct ones."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for s in template.stages:
        name = _node(s.id)
        while name in used:
            name += "_"
        used.add(name)
        names[s.id] = name
    return names


def _label(text: str) -> str:
    # Quotes end a state label and a colon starts a transition label in Mermaid.
    return text.replace('"', "'").replace(":", " -").replace("\n", " ")


def mermaid(template: Template, current: str | None = None) -> str:
    """A `stateDiagram-v2` of the template; `current` (a stage id) is highlighted."""
    lines = ["---", f"title: {_label(template.title)} (v{template.version})", "---"]
    lines += ["stateDiagram-v2", "    direction TB"]
    node = _nodes(template)
    for s in template.stages:
        lines.append(f'    state "{_label(s.title or s.id)}" as {node[s.id]}')
    lines.append(f"    [*] --> {node[template.initial_stage.id]}")
    for t in template.transitions:
        for src in t.sources:
            lines.append(f"    {node[src]} --> {node[t.dest]}: {_label(t.title or t.id)}")
    for s in template.stages:
        if s.terminal:
            lines.append(f"    {node[s.id]} --> [*]")
    if current is not None and template.has_stage(current):
        lines.append("    classDef current fill:#fde68a,stroke:#b45309,stroke-width:3px")
        lines.append(f"    class {node[current]} current")
    return "\n".join(lines) + "\n"
