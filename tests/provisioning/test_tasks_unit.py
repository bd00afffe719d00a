"""The task waiter's policy (back-off, timeout, both outcomes) with a scripted status source."""

from __future__ import annotations

from typing import Any

import pytest

from solti.provisioning.errors import TaskFailed, TaskTimeout
from solti.provisioning.task_waiter import TaskWaiter, node_of, task_ok

UPID = "UPID:pve:0002A1F3:01B5C2D4:6650F2A1:qmclone:9000:root@pam!solti:"


class ScriptedTasks:
    """Answers ``task_status`` from a list, counting calls like a request log would."""

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str]] = []

    def task_status(self, node: str, upid: str) -> dict[str, Any]:
        self.calls.append((node, upid))
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


def waiter(source: ScriptedTasks, clock: ManualClock, **kw: Any) -> TaskWaiter:
    return TaskWaiter(source, sleep=clock.sleep, clock=clock, **kw)


RUNNING = {"status": "running", "type": "qmclone", "id": "9000"}


def test_backs_off_from_a_tenth_to_one_second() -> None:
    clock = ManualClock()
    source = ScriptedTasks([RUNNING] * 7 + [{"status": "stopped", "exitstatus": "OK"}])
    status = waiter(source, clock).wait(UPID)
    assert status["exitstatus"] == "OK"
    assert clock.sleeps == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
    assert source.calls[0] == ("pve", UPID)


def test_warnings_count_as_success() -> None:
    clock = ManualClock()
    source = ScriptedTasks([{"status": "stopped", "exitstatus": "WARNINGS: 2"}])
    assert waiter(source, clock).wait(UPID)["exitstatus"] == "WARNINGS: 2"
    assert clock.sleeps == []


def test_failed_task_keeps_pve_text_and_step() -> None:
    clock = ManualClock()
    source = ScriptedTasks(
        [RUNNING, {"status": "stopped", "exitstatus": "clone failed: disk full"}]
    )
    with pytest.raises(TaskFailed) as caught:
        waiter(source, clock).wait(UPID, step="clone")
    assert caught.value.exitstatus == "clone failed: disk full"
    assert caught.value.step == "clone"
    assert "clone failed: disk full" in str(caught.value)
    assert caught.value.upid == UPID


def test_timeout_raises_after_the_limit() -> None:
    clock = ManualClock()
    source = ScriptedTasks([RUNNING])
    with pytest.raises(TaskTimeout) as caught:
        waiter(source, clock, timeout=3).wait(UPID, step="start")
    assert clock.now == pytest.approx(3.0)
    assert "3 s" in str(caught.value)
    assert caught.value.step == "start"


def test_none_upid_is_a_synchronous_success() -> None:
    source = ScriptedTasks([])
    assert waiter(source, ManualClock()).wait(None)["exitstatus"] == "OK"
    assert source.calls == []


def test_helpers() -> None:
    assert node_of(UPID) == "pve"
    with pytest.raises(ValueError):
        node_of("nonsense")
    assert task_ok("OK") and task_ok("WARNINGS: 1")
    assert not task_ok("unexpected status") and not task_ok(None)
