"""Template documents: YAML (safe loading only) or JSON text to a mapping, with line numbers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from engine.issues import Issue, Located
from engine.parse import MAX_TEMPLATE_BYTES
from engine.template import Template
from engine.validation import build_template, validate

__all__ = ["MAX_TEMPLATE_BYTES", "Located", "TemplateDocument", "read_document", "read_file"]


# YAML aliases let a small text expand into a huge structure ("billion laughs"); templates
# have no need of more than a few.
_MAX_ALIASES = 200
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class TemplateDocument:
    """A template document as read from text: its data, or why it could not be read."""

    data: object
    issues: tuple[Located, ...]
    _root: yaml.Node | None = None

    @property
    def ok(self) -> bool:
        return not self.issues

    def validate(self) -> list[Located]:
        """Syntax issues, or else every template issue, each with its line where known."""
        if self.issues:
            return list(self.issues)
        return [Located(i, self.line_of(i.location)) for i in validate(self.data)]

    def build(self) -> Template:
        """The template, if valid. Raises `engine.errors.InvalidTemplate` otherwise."""
        return build_template(self.data)

    def line_of(self, location: str) -> int | None:
        """The 1-based line of a location such as `transitions[3].to`, for YAML documents."""
        node = self._root
        if node is None:
            return None
        for name, index in _SEGMENT.findall(location):
            child: yaml.Node | None = None
            if index and isinstance(node, yaml.SequenceNode):
                i = int(index)
                child = node.value[i] if i < len(node.value) else None
            elif name and isinstance(node, yaml.MappingNode):
                child = next((v for k, v in node.value if k.value == name), None)
                if child is None and len(node.value) == 1:
                    # A requirement `{name: {params}}`: its location skips the name.
                    inner = node.value[0][1]
                    if isinstance(inner, yaml.MappingNode):
                        child = next((v for k, v in inner.value if k.value == name), None)
                if child is None:  # an unknown or missing key: point at the mapping itself
                    break
            if child is None:
                break
            node = child
        return node.start_mark.line + 1


def read_document(text: str | bytes, name: str = "template") -> TemplateDocument:
    """Read YAML or JSON template text (JSON when the name ends in .json or text starts with {).

    Never raises for bad input: syntax errors come back as issues with line and column.
    """
    if isinstance(text, bytes):
        if len(text) > MAX_TEMPLATE_BYTES:
            return _refused(f"the document is larger than {MAX_TEMPLATE_BYTES} bytes")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _refused(f"the document is not UTF-8 text (byte {exc.start})")
    if len(text.encode()) > MAX_TEMPLATE_BYTES:
        return _refused(f"the document is larger than {MAX_TEMPLATE_BYTES} bytes")
    if name.lower().endswith(".json") or text.lstrip().startswith("{"):
        return _json(text)
    return _yaml(text)


def _refused(message: str, line: int | None = None) -> TemplateDocument:
    return TemplateDocument(None, (Located(Issue("(document)", message, "syntax"), line),))


def _json(text: str) -> TemplateDocument:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return _refused(
            f"JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}", exc.lineno
        )
    return TemplateDocument(data, ())


def _yaml(text: str) -> TemplateDocument:
    try:
        aliases = sum(1 for tok in yaml.scan(text) if isinstance(tok, yaml.AliasToken))
        if aliases > _MAX_ALIASES:
            return _refused(f"the document uses {aliases} YAML aliases; at most {_MAX_ALIASES}")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        where = f" at line {line}, column {col}" if mark else ""
        what = exc.problem or exc.context or "invalid YAML"
        return _refused(f"YAML syntax error{where}: {what}", line)
    except yaml.YAMLError as exc:
        return _refused(f"YAML error: {exc}")
    return TemplateDocument(data, (), root)


def read_file(path: Path) -> TemplateDocument:
    """Read a template file from disk."""
    if path.stat().st_size > MAX_TEMPLATE_BYTES:
        return _refused(f"the file is larger than {MAX_TEMPLATE_BYTES} bytes")
    return read_document(path.read_bytes(), path.name)
