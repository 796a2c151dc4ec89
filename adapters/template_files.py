"""Template documents: YAML (safe loading only) or JSON text to a mapping, with line numbers."""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from engine.errors import InvalidTemplate
from engine.issues import Issue, Located, shown
from engine.parse import MAX_TEMPLATE_BYTES
from engine.template import Template
from engine.validation import check

__all__ = ["MAX_TEMPLATE_BYTES", "Located", "TemplateDocument", "read_document", "read_file"]


# YAML aliases let a small text expand into a huge structure ("billion laughs"); templates
# have no need of more than a few, nor of deep nesting (the SPP template nests 6 deep).
_MAX_ALIASES = 200
_MAX_DEPTH = 64
_MAX_VALUES = 300_000
"""How many values (scalars, lists and mappings) a document may stand for once its aliases
are expanded: about as many as the largest document written out holds (MAX_TEMPLATE_BYTES
of `[a, a, ...]`), so that reading it costs what its size says."""
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it (its wheels are): the same documents,
marks and errors as the pure-Python one, ten times faster."""
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_MERGE = "tag:yaml.org,2002:merge"
_OPENS = (
    yaml.BlockSequenceStartToken,
    yaml.BlockMappingStartToken,
    yaml.FlowSequenceStartToken,
    yaml.FlowMappingStartToken,
)
_CLOSES = (yaml.BlockEndToken, yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken)


@dataclass(frozen=True, slots=True)
class TemplateDocument:
    """A template document as read from text: its data, or why it could not be read.

    `issues` stop it being read at all (syntax, size); `duplicates` are keys written twice in
    one mapping, where the data keeps only the last: reported with the template's issues.
    """

    data: object
    issues: tuple[Located, ...]
    _root: yaml.Node | None = None
    duplicates: tuple[Located, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.issues

    def checked(self) -> tuple[Template | None, list[Located]]:
        """The template, and every issue each with its line where known (read once: the
        template only when there are none)."""
        if self.issues:
            return None, list(self.issues)
        template, found = check(self.data)
        issues = list(self.duplicates) + [Located(i, self.line_of(i.location)) for i in found]
        return (None if issues else template), issues

    def validate(self) -> list[Located]:
        """Syntax issues, or else every template issue, each with its line where known."""
        return self.checked()[1]

    def build(self) -> Template:
        """The template, if valid. Raises `engine.errors.InvalidTemplate` otherwise."""
        template, issues = self.checked()
        if template is None:
            raise InvalidTemplate([i.issue for i in issues], [i.line for i in issues])
        return template

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
    except RecursionError:
        return _refused(f"the document nests lists or mappings more than {_MAX_DEPTH} deep")
    if _nesting(data) > _MAX_DEPTH:
        return _refused(f"the document nests lists or mappings more than {_MAX_DEPTH} deep")
    # JSON is YAML (1.2; PyYAML reads the JSON a template is written in): its nodes give the
    # lines of content issues and of keys written twice. Without them, no lines.
    root = None
    with contextlib.suppress(yaml.YAMLError):
        root = yaml.compose(text, Loader=_LOADER)
    if root is None:
        return TemplateDocument(data, (), None, _json_duplicates(text))
    return TemplateDocument(data, (), root, _duplicates(root))


def _yaml(text: str) -> TemplateDocument:
    try:
        tokens = list(yaml.scan(text, Loader=_LOADER))
        aliases = sum(1 for tok in tokens if isinstance(tok, yaml.AliasToken))
        if aliases > _MAX_ALIASES:
            return _refused(f"the document uses {aliases} YAML aliases; at most {_MAX_ALIASES}")
        if _depth(tokens) > _MAX_DEPTH:
            return _refused(f"the document nests lists or mappings more than {_MAX_DEPTH} deep")
        root = yaml.compose(text, Loader=_LOADER)
        if root is not None and aliases:  # (without aliases, no value is shared)
            refused = _expansion(root)
            if refused is not None:
                return _refused(refused)
        data = _construct(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        where = f" at line {line}, column {col}" if mark else ""
        what = exc.problem or exc.context or "invalid YAML"
        return _refused(f"YAML syntax error{where}: {what}", line)
    except yaml.YAMLError as exc:
        return _refused(f"YAML error: {shown(str(exc))}")
    return TemplateDocument(data, (), root, _duplicates(root) if root is not None else ())


def _construct(root: yaml.Node | None) -> object:
    """The data of the composed document (the text is parsed once)."""
    if root is None:
        return None
    loader = _LOADER("")
    try:
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _depth(tokens: list[yaml.Token]) -> int:
    depth = deepest = 0
    for tok in tokens:
        if isinstance(tok, _OPENS):
            depth += 1
            deepest = max(deepest, depth)
        elif isinstance(tok, _CLOSES):
            depth -= 1
    return deepest


def _nesting(data: object) -> int:
    """How deep JSON data nests (a tree: JSON has no aliases)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in value)
    return deepest


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _expansion(root: yaml.Node) -> str | None:
    """Why the document cannot be read once its aliases are expanded (it refers to itself,
    or stands for more than _MAX_VALUES values), or None. Each node is counted once, so
    this costs what the text's size does, whatever the aliases make of it."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in _children(node))
            if sizes[key] > _MAX_VALUES:
                return (
                    f"the document's YAML aliases expand it to more than {_MAX_VALUES:,} "
                    f"values (at line {node.start_mark.line + 1}); write the values out, or "
                    "use fewer aliases"
                )
            continue
        if key in sizes:
            continue
        if key in open_:
            return (
                f"a YAML alias at line {node.start_mark.line + 1} refers to a value that "
                "contains it: a template cannot be endless"
            )
        open_.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in sizes)
    return None


def _duplicates(root: yaml.Node) -> tuple[Located, ...]:
    """Every key written a second time in one mapping, at its line, with the path to it."""
    found: list[Located] = []
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((c, f"{path}[{i}]") for i, c in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for k, v in node.value:
                if not isinstance(k, yaml.ScalarNode) or k.tag == _MERGE:
                    continue
                line = k.start_mark.line + 1
                name = k.value if len(k.value) <= 64 else shown(k.value)
                where = f"{path}.{name}" if path else name
                if k.value in first:
                    message = (
                        f"the key {shown(k.value)} is written twice in one mapping (first at "
                        f"line {first[k.value]}); only the last would count, so say it once"
                    )
                    found.append(Located(Issue(where, message, "duplicate_key"), line))
                else:
                    first[k.value] = line
                stack.append((v, where))
    return tuple(sorted(found, key=lambda f: f.line or 0))


def _json_duplicates(text: str) -> tuple[Located, ...]:
    """Keys written twice in one JSON object, without lines (for JSON PyYAML cannot read)."""
    found: list[Located] = []

    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        keys = [k for k, _ in items]
        for k in sorted({k for k in keys if keys.count(k) > 1}):
            message = f"the key {shown(k)} is written twice in one object; say it once"
            found.append(Located(Issue(k if len(k) <= 64 else shown(k), message, "duplicate_key")))
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)
    return tuple(found)


def read_file(path: Path) -> TemplateDocument:
    """Read a template file from disk."""
    if path.stat().st_size > MAX_TEMPLATE_BYTES:
        return _refused(f"the file is larger than {MAX_TEMPLATE_BYTES} bytes")
    return read_document(path.read_bytes(), path.name)
