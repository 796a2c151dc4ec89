"""What a due deadline row does (engine.due.decide): never about finished work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from engine.cycle import ACTION_STATUSES, DONE_STATUSES
from engine.due import DueRow, decide

T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
KINDS = ["reminder", "notify", "escalate", "due", "fire", "action_due_soon", "action_overdue"]
STAGES = ["self_review", "pre_review", "closed"]

rows = st.builds(
    DueRow,
    kind=st.sampled_from([*KINDS, "something_else"]),
    stage=st.sampled_from(STAGES),
    cycle_stage=st.sampled_from(STAGES),
    stage_due_at=st.integers(-5, 5).map(lambda d: T0 + timedelta(days=d)),
    roles=st.lists(st.sampled_from(["school_lead", "partnership_lead"]), max_size=2).map(tuple),
    transition=st.sampled_from([None, "begin_follow_up"]),
    action_id=st.sampled_from([None, "act_1"]),
    action_exists=st.booleans(),
    action_status=st.sampled_from([None, *ACTION_STATUSES]),
    cycle_closed=st.booleans(),
)


@given(rows)
def test_nobody_hears_of_a_done_action_a_closed_cycle_or_a_stage_left(row: DueRow) -> None:
    d = decide(row, T0)
    if row.action_id is not None and (
        row.action_status in DONE_STATUSES or row.cycle_closed or not row.action_exists
    ):
        assert d.do == "skip" and d.note
    if row.action_id is None and row.cycle_stage != row.stage:
        assert d.do == "skip" and d.note == "the cycle left the stage"


@given(rows)
def test_a_reminder_after_its_stage_was_due_is_not_sent(row: DueRow) -> None:
    d = decide(row, T0)
    if row.action_id is None and row.kind == "reminder" and row.stage_due_at <= T0:
        assert d.do == "skip"
    if row.action_id is not None and row.kind == "action_due_soon" and row.stage_due_at <= T0:
        assert d.do == "skip"


@given(rows)
def test_only_a_fire_row_moves_the_cycle_and_it_names_its_transition(row: DueRow) -> None:
    d = decide(row, T0)
    if d.do == "fire":
        assert row.kind == "fire" and row.action_id is None and row.cycle_stage == row.stage
        assert d.transition == row.transition
    if d.do == "tell":
        assert d.roles == row.roles


def test_an_unknown_kind_is_skipped_with_its_name() -> None:
    row = DueRow("hourly", "pre_review", "pre_review", T0)
    assert decide(row, T0).note == "unknown deadline kind 'hourly'"


def test_an_open_action_reminder_goes_to_its_owner() -> None:
    row = DueRow("action_due_soon", "support", "support", T0 + timedelta(days=3), action_id="act_1")
    assert decide(row, T0).do == "tell_owner"
    done = DueRow(
        "action_due_soon", "support", "support", T0, action_id="act_1", action_status="met"
    )
    assert decide(done, T0).note == "the action is done (met)"
