"""A located problem in a template, as reported by the validator."""

from __future__ import annotations

import reprlib
from dataclasses import dataclass

__all__ = ["Issue", "Located", "shown"]

SHOWN_MOST = 400
"""The most characters of a value an issue quotes."""

_SHOWN = reprlib.Repr()
_SHOWN.maxlevel = 2
_SHOWN.maxtuple = _SHOWN.maxlist = _SHOWN.maxdict = _SHOWN.maxset = 4
_SHOWN.maxstring = _SHOWN.maxother = _SHOWN.maxlong = 60


def shown(value: object) -> str:
    """`value` as a message may quote it: its repr, cut short. A template's author may send
    anything, and an issue echoes what it names, so never more than a line of it."""
    text = _SHOWN.repr(value)
    # reprlib bounds each part, not the whole: a mapping of long keys can still run over.
    return text if len(text) <= SHOWN_MOST else text[: SHOWN_MOST - 1] + "…"


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a template.

    Attributes:
        location: where it is, as a path into the document (`transitions[3].to`).
        message: what is wrong, for the person who wrote the template.
        code: a stable machine-readable name for the kind of problem.
    """

    location: str
    message: str
    code: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True, slots=True)
class Located:
    """An issue with the line it points at, when the document format can tell."""

    issue: Issue
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.issue.location}{where}: {self.issue.message}"
