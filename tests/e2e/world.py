"""A small partnership for HTTP tests: two networks, people in every role, published templates,
bearer tokens for each, and helpers to call the API as one of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from adapters.clock import FixedClock
from engine.directory import Grant, Network, Person, School
from service.app import create_app
from service.auth import issue_token
from service.bootstrap import Container, build
from service.settings import Settings

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
T0 = datetime(2026, 9, 14, 8, 0, tzinfo=UTC)

# name -> (person id, school or None, [(role, scope kind, scope id)])
PEOPLE: dict[str, tuple[str, str | None, list[tuple[str, str, str | None]]]] = {
    "admin": ("p-admin", None, [("admin", "global", None)]),
    "chair_own": ("p-chair-n", None, [("network_lead", "network", "nlc-n")]),
    "chair_other": ("p-chair-s", None, [("network_lead", "network", "nlc-s")]),
    "pl_own": ("p-pl-n", None, [("partnership_lead", "network", "nlc-n")]),
    "pl_other": ("p-pl-s", None, [("partnership_lead", "network", "nlc-s")]),
    "head_own": ("p-head-h", "sch-h", [("school_lead", "school", "sch-h")]),
    "staff_own": ("p-staff-h", "sch-h", [("school_staff", "school", "sch-h")]),
    "review_lead": ("p-head-a", "sch-a", [("school_lead", "school", "sch-a")]),
    "reviewer": ("p-head-b", "sch-b", [("school_lead", "school", "sch-b")]),
    "reviewer2": ("p-head-c", "sch-c", [("school_lead", "school", "sch-c")]),
    "champion": ("p-head-d", "sch-d", [("school_lead", "school", "sch-d")]),
    "head_other": ("p-head-e", "sch-e", [("school_lead", "school", "sch-e")]),
    "head_other_net": ("p-head-x", "sch-x", [("school_lead", "school", "sch-x")]),
    "staff_other_net": ("p-staff-x", "sch-x", [("school_staff", "school", "sch-x")]),
    "spare": ("p-head-f", "sch-f", [("school_lead", "school", "sch-f")]),
}

SCHOOLS = [
    ("sch-h", "100001", "Host Primary School", "nlc-n"),
    ("sch-a", "100002", "Alder Primary School", "nlc-n"),
    ("sch-b", "100003", "Birch Academy", "nlc-n"),
    ("sch-c", "100004", "Cedar Primary School", "nlc-n"),
    ("sch-d", "100005", "Damson Infant School", "nlc-n"),
    ("sch-e", "100006", "Elm Primary School", "nlc-n"),
    ("sch-f", "100007", "Fir Secondary School", "nlc-n"),
    ("sch-x", "200001", "Xylem Primary School", "nlc-s"),
    ("sch-y", "200002", "Yew Primary School", "nlc-s"),
]


@dataclass
class World:
    container: Container
    clock: FixedClock
    app: Litestar
    client: TestClient[Litestar]
    tokens: dict[str, str] = field(default_factory=dict)

    def person(self, who: str) -> str:
        return PEOPLE[who][0]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def call(self, who: str | None, method: str, path: str, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}) or {})
        if who is not None:
            headers.update(self.auth(who))
        return self.client.request(method, path, headers=headers, **kw)

    def get(self, who: str | None, path: str, **kw: Any) -> Any:
        return self.call(who, "GET", path, **kw)

    def post(self, who: str | None, path: str, **kw: Any) -> Any:
        return self.call(who, "POST", path, **kw)

    def put(self, who: str | None, path: str, **kw: Any) -> Any:
        return self.call(who, "PUT", path, **kw)

    def version(self, who: str, cycle_id: str) -> str:
        r = self.get(who, f"/cycles/{cycle_id}")
        assert r.status_code == 200, r.text
        return str(r.headers["etag"])

    def fire(self, who: str, cycle_id: str, name: str, **kw: Any) -> Any:
        headers = {"If-Match": self.version(who, cycle_id), **kw.pop("headers", {})}
        return self.post(who, f"/cycles/{cycle_id}/transitions/{name}", headers=headers, **kw)

    def table_count(self, table: str) -> int:
        import sqlalchemy as sa

        with self.container.engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() or 0)


def seed_directory(container: Container, now: datetime) -> dict[str, str]:
    """Networks, schools, people and grants; returns a token secret per person name."""
    tokens: dict[str, str] = {}
    with container.uow() as uow:
        d = uow.directory
        d.add_network(Network("nlc-n", "Northbank NLC", "p-chair-n"))
        d.add_network(Network("nlc-s", "Southmere NLC", "p-chair-s"))
        for sid, urn, name, net in SCHOOLS:
            d.add_school(School(sid, urn, name, "Primary", net))
        for name, (pid, school, grants) in PEOPLE.items():
            d.add_person(
                Person(pid, name.replace("_", " ").title(), f"{pid}@school.example", school)
            )
            for i, (role, kind, scope) in enumerate(grants):
                d.add_grant(Grant(f"g-{pid}-{i}", pid, role, kind, scope))  # type: ignore[arg-type]
        for name, (pid, _, _) in PEOPLE.items():
            _, secret = issue_token(uow, pid, "tests", now, now + timedelta(days=30))
            tokens[name] = secret
        uow.commit()
    for path in ("spp-cycle.yaml", "cqa.yaml"):
        if (WORKFLOWS / path).exists():
            container.app.upload_template((WORKFLOWS / path).read_bytes(), path, publish=True)
    return tokens


def make_container(
    tmp: Path, database_url: str = "", max_upload: int = 256 * 1024
) -> tuple[Container, FixedClock]:
    clock = FixedClock(T0)
    settings = Settings(
        data_dir=tmp, database_url=database_url, demo=False, max_upload_bytes=max_upload
    )
    return build(settings, clock=clock, migrate=True), clock


def open_world(tmp: Path, database_url: str = "") -> Iterator[World]:
    container, clock = make_container(tmp, database_url)
    tokens = seed_directory(container, clock.now())
    app = create_app(container)
    with TestClient(app=app) as client:
        yield World(container, clock, app, client, tokens)
