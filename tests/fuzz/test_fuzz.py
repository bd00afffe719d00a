"""A few hundred fuzz cases in CI (``bench/chaos.py --fuzz N`` runs thousands): 0 unhandled
exceptions, 0 HTTP 5xx from the bot, every bad command answered with a sentence, no VM made."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.bot.conftest import Harness
from tests.fuzz.cases import (
    ExceptionCounter,
    Tally,
    check_payload,
    check_policy_file,
    check_slash,
    payloads,
    policy_files,
    slash_texts,
)

FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,
    derandomize=True,  # the same cases on every run: CI never flakes on a new draw
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def counter() -> Iterator[ExceptionCounter]:
    handler = ExceptionCounter()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def _finish(bot: Harness, tally: Tally, counter: ExceptionCounter, vms_before: set[int]) -> None:
    bot.runtime.work.shutdown(wait=True)  # every reply after the ack has run
    tally.unhandled += counter.records
    tally.vms_made = len({v.vmid for v in bot.provisioner.list_vms()} - vms_before)
    assert tally.cases > 0
    assert (tally.unhandled, tally.server_errors, tally.silent, tally.vms_made) == (
        [],
        0,
        0,
        0,
    ), tally.line()


def test_fuzzed_slash_commands(bot: Harness, counter: ExceptionCounter) -> None:
    tally, before = Tally(), {v.vmid for v in bot.provisioner.list_vms()}

    @FUZZ
    @given(slash_texts)
    def run(text: str) -> None:
        check_slash(bot.user, text, tally)

    run()
    _finish(bot, tally, counter, before)


def test_fuzzed_interactive_payloads(bot: Harness, counter: ExceptionCounter) -> None:
    tally, before = Tally(), {v.vmid for v in bot.provisioner.list_vms()}

    @FUZZ
    @given(payloads)
    def run(payload: object) -> None:
        check_payload(bot.user, payload, tally)

    run()
    _finish(bot, tally, counter, before)


def test_fuzzed_policy_files(tmp_path: Path) -> None:
    tally = Tally()

    @settings(FUZZ, max_examples=60)
    @given(policy_files)
    def run(data: bytes) -> None:
        check_policy_file(tmp_path / "policy.yaml", data, tally)

    run()
    assert tally.cases > 0 and not tally.unhandled and not tally.silent, tally.unhandled[:5]
