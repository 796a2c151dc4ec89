"""What a user might pick instead of Peerloop, each persisting an SPP cycle the same plain way.

Every rival keeps a row per cycle (its stage, a version, and SpiffWorkflow's serialized
workflow) and appends a history row per move, in its own tables in the same database as
Peerloop's. A move is one transaction: load the row, decide with the library, update the row
where the version is unchanged, append history, commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState
from statemachine import State, StateMachine
from transitions import Machine

from engine.template import Template

__all__ = ["BPMN_PATH", "MAIN_PATH", "Pool", "Rows", "rival_cycles"]

BPMN_PATH = Path(__file__).resolve().parent / "bpmn" / "spp-cycle.bpmn"
MAIN_PATH = (
    ("self_review", "submit_self_review"),
    ("pre_review", "start_peer_review"),
    ("peer_review", "complete_peer_review"),
    ("improvement_workshop", "agree_actions"),
    ("support", "begin_follow_up"),
    ("follow_up", "close"),
)
"""The SPP template's main path: (stage, the transition that leaves it), start to closed."""
_LEAVE = dict(MAIN_PATH)
_NEXT = {
    stage: (MAIN_PATH[i + 1][0] if i + 1 < len(MAIN_PATH) else "closed")
    for i, (stage, _) in enumerate(MAIN_PATH)
}

SCHEMA = {
    "sqlite": (
        "CREATE TABLE bench_cycle (id TEXT PRIMARY KEY, system TEXT NOT NULL, "
        "stage TEXT NOT NULL, version INTEGER NOT NULL, stage_entered_at TEXT NOT NULL, data TEXT)",
        "CREATE TABLE bench_history (id INTEGER PRIMARY KEY, cycle_id TEXT NOT NULL "
        "REFERENCES bench_cycle (id), seq INTEGER NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL, "
        "transition TEXT, from_stage TEXT, to_stage TEXT NOT NULL, UNIQUE (cycle_id, seq))",
    ),
    "postgresql": (
        "CREATE TABLE bench_cycle (id TEXT PRIMARY KEY, system TEXT NOT NULL, "
        "stage TEXT NOT NULL, version INTEGER NOT NULL, stage_entered_at TIMESTAMPTZ NOT NULL, "
        "data TEXT)",
        "CREATE TABLE bench_history (id BIGSERIAL PRIMARY KEY, cycle_id TEXT NOT NULL "
        "REFERENCES bench_cycle (id), seq INTEGER NOT NULL, at TIMESTAMPTZ NOT NULL, "
        "actor TEXT NOT NULL, transition TEXT, from_stage TEXT, to_stage TEXT NOT NULL, "
        "UNIQUE (cycle_id, seq))",
    ),
}
"""The rivals' own tables, in the same SQLite file / PostgreSQL schema as Peerloop's."""


class Pool:
    """Fresh cycle ids seeded before timing; each timed call takes the next one to closed."""

    def __init__(self, label: str, ids: list[str]) -> None:
        self.label = label
        self.size = len(ids)
        self._ids = iter(ids)

    def next(self) -> str:
        try:
            return next(self._ids)
        except StopIteration:
            raise RuntimeError(
                f"{self.label}: all {self.size} fresh cycles are used up; run with the default"
                " --repeat or raise PEERLOOP_BENCH_N"
            ) from None


class Rows:
    """The plain persistence every rival gets: a cycle row and a history row per move."""

    def __init__(self, conn: Any, kind: str) -> None:
        self.conn = conn
        self.sqlite = kind == "sqlite"
        p = "?" if self.sqlite else "%s"
        self._load = f"SELECT stage, version, data FROM bench_cycle WHERE id = {p}"
        self._update = (
            f"UPDATE bench_cycle SET stage = {p}, version = {p}, stage_entered_at = {p}, "
            f"data = {p} WHERE id = {p} AND version = {p}"
        )
        self._history = (
            "INSERT INTO bench_history (cycle_id, seq, at, actor, transition, from_stage, "
            f"to_stage) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})"
        )

    def now(self) -> Any:
        now = datetime.now(UTC)
        return now.isoformat() if self.sqlite else now

    def create(self) -> None:
        for ddl in SCHEMA["sqlite" if self.sqlite else "postgresql"]:
            self.conn.execute(ddl)
        self.conn.commit()

    def seed(self, system: str, ids: list[str], stage: str, data: str | None = None) -> None:
        """Start each cycle: its row at the first stage and a first history row."""
        now = self.now()
        p = "?" if self.sqlite else "%s"
        cur = self.conn.cursor()
        cur.executemany(
            f"INSERT INTO bench_cycle VALUES ({p}, {p}, {p}, 0, {p}, {p})",
            [(cid, system, stage, now, data) for cid in ids],
        )
        cur.executemany(
            self._history,
            [(cid, 0, now, "bench", None, None, stage) for cid in ids],
        )
        self.conn.commit()

    def move(
        self, cid: str, decide: Callable[[str, str | None], tuple[str, str, str | None]]
    ) -> str:
        """One persisted move: `decide(stage, data)` gives (transition, new stage, new data)."""
        c = self.conn
        if self.sqlite:
            c.execute("BEGIN IMMEDIATE")
        stage, version, data = c.execute(self._load, (cid,)).fetchone()
        transition, dest, new_data = decide(stage, data)
        now = self.now()
        cur = c.execute(self._update, (dest, version + 1, now, new_data, cid, version))
        if cur.rowcount != 1:
            raise RuntimeError(f"cycle {cid} changed under the benchmark")
        c.execute(self._history, (cid, version + 1, now, "bench", transition, stage, dest))
        c.commit()
        return dest


class _Plain:
    """The plain object a library moves: nothing but the stage attribute."""

    __slots__ = ("stage",)

    def __init__(self, stage: str) -> None:
        self.stage = stage


def _transitions_decider(template: Template) -> Callable[[str, str | None], tuple]:
    """Bare `transitions`: one unbound machine, configured as Peerloop configures its own."""
    events = Machine(
        model=None,
        states=[s.id for s in template.stages],
        initial=template.initial_stage.id,
        transitions=[
            {"trigger": t.id, "source": list(t.sources), "dest": t.dest}
            for t in template.transitions
        ],
        auto_transitions=False,
        model_attribute="stage",
    ).events

    def decide(stage: str, data: str | None) -> tuple[str, str, None]:
        obj, name = _Plain(stage), _LEAVE[stage]
        events[name].trigger(obj)
        return name, obj.stage, None

    return decide


def statemachine_class(template: Template) -> type[StateMachine]:
    """A python-statemachine class with the template's stages and transitions."""
    ns: dict[str, Any] = {"__module__": __name__}
    for s in template.stages:
        ns[s.id] = State(
            s.title, value=s.id, initial=s.id == template.initial_stage.id, final=s.terminal
        )
    for t in template.transitions:
        moves = [ns[src].to(ns[t.dest]) for src in t.sources]
        combined = moves[0]
        for m in moves[1:]:
            combined = combined | m
        ns[t.id] = combined
    return type("SppCycleMachine", (StateMachine,), ns)


def _statemachine_decider(template: Template) -> Callable[[str, str | None], tuple]:
    """python-statemachine: a machine instance bound to each loaded object, as it is designed."""
    cls = statemachine_class(template)

    def decide(stage: str, data: str | None) -> tuple[str, str, None]:
        obj, name = _Plain(stage), _LEAVE[stage]
        cls(model=obj, state_field="stage").send(name)
        return name, obj.stage, None

    return decide


def _floor_decider(template: Template) -> Callable[[str, str | None], tuple]:
    def decide(stage: str, data: str | None) -> tuple[str, str, None]:
        return _LEAVE[stage], _NEXT[stage], None

    return decide


class Spiff:
    """SpiffWorkflow on the SPP BPMN process; the whole workflow is serialized on every move."""

    def __init__(self) -> None:
        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN_PATH))
        self.spec = parser.get_spec("spp_cycle")
        self.serializer = BpmnWorkflowSerializer()

    def start(self) -> str:
        """A new workflow run to its first user task, serialized."""
        wf = BpmnWorkflow(self.spec)
        wf.do_engine_steps()
        return str(self.serializer.serialize_json(wf))

    def decide(self, stage: str, data: str | None) -> tuple[str, str, str]:
        wf = self.serializer.deserialize_json(data)
        (task,) = wf.get_tasks(state=TaskState.READY, manual=True)
        done = task.task_spec.name
        task.run()
        wf.do_engine_steps()
        ready = wf.get_tasks(state=TaskState.READY, manual=True)
        dest = ready[0].task_spec.name if ready else "closed"
        if not ready and not wf.is_completed():
            raise RuntimeError("the BPMN process stopped without completing")
        return _LEAVE[done], dest, str(self.serializer.serialize_json(wf))


def rival_cycles(
    template: Template, rows: Rows, spiff: Spiff
) -> Iterator[tuple[str, Callable[[str], None], Callable[[list[str]], None]]]:
    """(system, take one cycle to closed, seed cycle ids) for each rival."""
    first = template.initial_stage.id
    deciders = {
        "spiff": spiff.decide,
        "transitions": _transitions_decider(template),
        "statemachine": _statemachine_decider(template),
        "floor": _floor_decider(template),
    }
    for system, decide in deciders.items():

        def run(cid: str, decide: Callable[[str, str | None], tuple] = decide) -> None:
            stage = first
            while stage != "closed":
                stage = rows.move(cid, decide)

        def seed(ids: list[str], system: str = system) -> None:
            rows.seed(system, ids, first, spiff.start() if system == "spiff" else None)

        yield system, run, seed
