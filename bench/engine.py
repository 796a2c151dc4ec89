"""The engine's hot path on the SPP template: `fire` and `available` against a bare trigger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from transitions import Machine

from adapters.template_files import read_file
from bench.common import Case, Comparison, group
from engine.cycle import Actor, Cycle
from engine.machine import WorkflowMachine
from engine.records import add_evidence, record_judgement, set_focus
from engine.template import Template

__all__ = ["TEMPLATE_PATH", "engine"]

TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "workflows" / "spp-cycle.yaml"
TARGET = 2.0
"""`fire` may cost at most twice the bare `transitions` trigger it wraps."""

_NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
_HEAD = Actor("head", frozenset({"school_lead"}), "school-1")
_PARTNERSHIP_LEAD = Actor("plead", frozenset({"partnership_lead"}))


class _Plain:
    """The plain object a bare machine moves: nothing but the stage attribute."""

    def __init__(self, stage: str) -> None:
        self.stage = stage


def _bare_machine(template: Template) -> Machine:
    """A `transitions` machine configured as `WorkflowMachine` configures its own."""
    return Machine(
        model=None,
        states=[s.id for s in template.stages],
        initial=template.initial_stage.id,
        transitions=[
            {"trigger": t.id, "source": list(t.sources), "dest": t.dest}
            for t in template.transitions
        ],
        auto_transitions=False,
        model_attribute="stage",
    )


def _ready_cycle(machine: WorkflowMachine, cycle_id: str) -> Cycle:
    """A self-review cycle whose submission requirements are all met, built via the records API."""
    cycle, _ = machine.start(cycle_id, "school-1", "network-1", _HEAD, _NOW)
    template = machine.template
    for i, q in enumerate(template.framework.questions):
        add_evidence(template, cycle, _HEAD, f"ev-{i}", q.id, f"Evidence for {q.id}", _NOW)
        record_judgement(template, cycle, _HEAD, "self", q.id, f"Our view on {q.id}.", None, _NOW)
    set_focus(template, cycle, _HEAD, ["Reading in key stage 2"], _NOW)
    return cycle


def _bare_cases(template: Template) -> tuple[Case, Case, Case]:
    events = _bare_machine(template).events
    start = template.initial_stage.id
    pause, reopen = events["pause"], events["reopen"]
    withdraw, submit = events["withdraw"], events["submit_self_review"]
    loop_obj, withdraw_obj, submit_obj = _Plain(start), _Plain(start), _Plain(start)

    def pause_reopen() -> None:
        pause.trigger(loop_obj)
        reopen.trigger(loop_obj)

    def withdraw_reset() -> None:
        withdraw.trigger(withdraw_obj)
        withdraw_obj.stage = start

    def submit_reset() -> None:
        submit.trigger(submit_obj)
        submit_obj.stage = start

    return (
        Case("bare trigger: pause + reopen", pause_reopen, calls=2),
        Case("bare trigger: withdraw", withdraw_reset),
        Case("bare trigger: submit_self_review", submit_reset),
    )


@group(
    "engine",
    title="Engine: WorkflowMachine on the SPP template",
    libraries=("transitions", "PyYAML"),
    notes=(
        "Baselines are a bare `transitions` trigger (`machine.events[name].trigger(obj)`) on a"
        " plain object, with the machine configured as `WorkflowMachine` configures its own.",
        "`fire` includes the role and requirement checks, the trigger, the `TransitionFired`"
        " event with its payload digest, and planning the entered stage's deadlines.",
        "Cases that leave the start stage reset it with one attribute write, on both sides.",
        "`reopen` enters `self_review` and plans its 5 deadlines; `pause` (to `on_hold`),"
        " `withdraw` and `submit_self_review` (to `pre_review`, visit date unset) plan none.",
        "`submit_self_review`: all 8 questions have evidence and a self-judgement, focus chosen.",
    ),
)
def engine() -> list[Comparison]:
    template = read_file(TEMPLATE_PATH).build()
    machine = WorkflowMachine(template)
    start = template.initial_stage.id
    bare_loop, bare_withdraw, bare_submit = _bare_cases(template)

    loop_cycle = _ready_cycle(machine, "loop")
    withdraw_cycle = _ready_cycle(machine, "withdraw")
    submit_cycle = _ready_cycle(machine, "submit")
    options_cycle = _ready_cycle(machine, "options")
    withdraw_payload = {"comment": "The school is joining another partnership."}

    def fire_pause_reopen() -> None:
        machine.fire(loop_cycle, "pause", _PARTNERSHIP_LEAD, _NOW)
        machine.fire(loop_cycle, "reopen", _PARTNERSHIP_LEAD, _NOW)

    def fire_withdraw() -> None:
        machine.fire(withdraw_cycle, "withdraw", _HEAD, _NOW, withdraw_payload)
        withdraw_cycle.stage = start

    def fire_submit() -> None:
        machine.fire(submit_cycle, "submit_self_review", _HEAD, _NOW)
        submit_cycle.stage = start

    def available() -> None:
        machine.available(options_cycle, _HEAD)

    # Fail loudly, before timing, if the fixture no longer meets the requirements.
    fire_submit()
    allowed = {o.transition for o in machine.available(options_cycle, _HEAD) if o.allowed}
    assert allowed == {"submit_self_review", "withdraw"}, allowed

    return [
        Comparison(Case("fire: pause + reopen", fire_pause_reopen, calls=2), bare_loop, TARGET),
        Comparison(Case("fire: withdraw (with payload)", fire_withdraw), bare_withdraw, TARGET),
        Comparison(Case("fire: submit_self_review", fire_submit), bare_submit, TARGET),
        Comparison(Case("available(self_review, head): 3 options", available), bare_withdraw),
    ]
