"""A located problem in a template, as reported by the validator."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Issue", "Located"]


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
