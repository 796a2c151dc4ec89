"""Reading schools from the DfE "Get Information About Schools" (GIAS) CSV export."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from engine.directory import School

__all__ = ["CsvProblem", "read_gias_csv"]

# GIAS column names, as in its "all establishment data" export.
URN = "URN"
NAME = "EstablishmentName"
PHASE = "PhaseOfEducation (name)"
LA = "LA (name)"
STATUS = "EstablishmentStatus (name)"
REQUIRED = (URN, NAME, PHASE)

_URN = re.compile(r"^\d{6}$")


@dataclass(frozen=True, slots=True)
class CsvProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def read_gias_csv(text: str, network_id: str | None) -> tuple[list[School], list[CsvProblem]]:
    """Schools from a GIAS CSV, and every problem found, each with its line number.

    Closed establishments are left out (not a problem). GIAS exports are often Windows-1252;
    the caller decodes.
    """
    problems: list[CsvProblem] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        return [], [CsvProblem(1, f"missing column(s): {', '.join(missing)}")]
    schools: list[School] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:  # more cells than headers
            problems.append(CsvProblem(line, "more cells than the header has columns"))
            continue
        urn = (row.get(URN) or "").strip()
        name = (row.get(NAME) or "").strip()
        phase = (row.get(PHASE) or "").strip()
        if (row.get(STATUS) or "").strip().lower().startswith("closed"):
            continue
        bad = []
        if not _URN.match(urn):
            bad.append(f"URN {urn!r} is not a six-digit number")
        if not name:
            bad.append("EstablishmentName is empty")
        if len(name) > 200:
            bad.append("EstablishmentName is longer than 200 characters")
        if not phase:
            bad.append("PhaseOfEducation (name) is empty")
        if urn in seen:
            bad.append(f"URN {urn} is already on line {seen[urn]}")
        if bad:
            problems.append(CsvProblem(line, "; ".join(bad)))
            continue
        seen[urn] = line
        schools.append(School(f"sch-{urn}", urn, name, phase, network_id))
    return schools, problems
