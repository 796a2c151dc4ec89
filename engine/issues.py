"""A located problem in a template, as reported by the validator."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Issue"]


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
