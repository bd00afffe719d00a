"""A lost connection is told as "nothing was changed" only when nothing can have been made.

Issue 12 ("a dropped task-status poll leaks a VM and lies"): after a clone was sent, or when a
task's status could not be read, the VM may exist in Proxmox; the sentence must say so and
point to `solti reconcile`.
"""

from __future__ import annotations

from solti.bot.flows.caller import describe_error
from solti.provisioning import Unreachable
from solti.provisioning.pve import MaybeApplied
from solti.provisioning.task_waiter import TaskLost


def test_before_anything_was_sent_nothing_was_changed() -> None:
    text, step = describe_error(Unreachable("connection refused", step="plan"))
    assert "nothing was changed" in text and step == "plan"


def test_a_lost_task_status_says_what_may_exist() -> None:
    text, step = describe_error(TaskLost("the clone task's status could not be read", step="clone"))
    assert "nothing was changed" not in text
    assert "during step clone" in text and "solti reconcile" in text
    assert "could not be read" in text and step == "clone"


def test_a_write_without_an_answer_may_have_taken_effect() -> None:
    text, _ = describe_error(MaybeApplied("POST clone: read timed out"))
    assert "nothing was changed" not in text and "may still exist" in text


def test_a_connection_lost_after_the_clone_step_is_not_told_as_harmless() -> None:
    text, _ = describe_error(Unreachable("connection reset", step="resize"))
    assert "nothing was changed" not in text and "during step resize" in text
