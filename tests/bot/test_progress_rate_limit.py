"""Progress messages through Slack's rate limit (HTTP 429 + Retry-After) on chat.update.

Real slack_sdk WebClient against the Slack stand-in, which answers 429 when told to. Sleeping
is recorded instead of done, so the test shows how long the bot would wait.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from slack_sdk import WebClient

from solti.bot.progress_message import ProgressMessage
from solti.bot.slackcalls import ATTEMPTS as FINAL_ATTEMPTS
from solti.sandbox.slack import SlackStandIn

CHANNEL = "C0INFRA"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as server:
        server.add_channel(CHANNEL, "infra")
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def progress(standin: SlackStandIn, sleeps: list[float]) -> ProgressMessage:
    client = WebClient(token="xoxb-progress-test", base_url=standin.url)
    message = ProgressMessage(client, CHANNEL, "Creating vm-1", sleep=sleeps.append)
    message.post()
    return message


def _step(name: str, index: int) -> SimpleNamespace:
    return SimpleNamespace(step=name, index=index, total=3, detail=None)


def _text_now(standin: SlackStandIn, progress: ProgressMessage) -> str:
    return str(standin.revisions(CHANNEL, progress.ts)[-1])


def test_a_refused_step_update_is_skipped_without_sleeping(
    standin: SlackStandIn, progress: ProgressMessage, sleeps: list[float]
) -> None:
    standin.rate_limit_next("chat.update", retry_after=5)
    progress(_step("clone", 1))  # refused: provisioning must not wait for Slack
    assert sleeps == []
    assert "clone" not in _text_now(standin, progress)
    progress(_step("resize", 2))  # the next update carries every step
    text = _text_now(standin, progress)
    assert "clone" in text and "resize" in text


def test_the_final_state_waits_for_retry_after_and_lands(
    standin: SlackStandIn, progress: ProgressMessage, sleeps: list[float]
) -> None:
    progress(_step("clone", 1))
    standin.rate_limit_next("chat.update", retry_after=7)
    progress.finish({"text": "vm-1 is ready"})
    assert sleeps == [7.0]
    assert standin.revisions(CHANNEL, progress.ts)[-1].get("text") == "vm-1 is ready"
    thread = standin.messages(CHANNEL, progress.ts)
    assert len(thread) == 1 and "clone" in str(thread[0])


def test_a_failure_state_is_retried_too_but_not_forever(
    standin: SlackStandIn, progress: ProgressMessage, sleeps: list[float]
) -> None:
    standin.rate_limit_next("chat.update", retry_after=2, times=FINAL_ATTEMPTS + 1)
    progress.fail("clone", "VM is locked (clone)")
    assert sleeps == [2.0] * (FINAL_ATTEMPTS - 1)  # then it gives up and logs
    assert "VM is locked" not in _text_now(standin, progress)
    # The thread reply (a different method) still tells what happened.
    assert "VM is locked (clone)" in str(standin.messages(CHANNEL, progress.ts))
