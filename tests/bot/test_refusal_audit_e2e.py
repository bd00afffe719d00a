"""A create refused or failed in Slack before the clone is on the audit record, with its reason.

Before, only the CLI wrote one (``Operation.refused``); the bot's plan ran outside the
operation, so a Slack create without a key, for an unknown distribution or over the quota
left no trace.
"""

from __future__ import annotations

from tests.bot.conftest import ALICE, KEY, Harness


def _create_records(bot: Harness) -> list:
    return [r for r in bot.audit.query(user=ALICE, limit=50) if r.action == "vm create"]


def test_a_create_without_a_key_is_recorded(bot: Harness) -> None:
    bot.user.slash("vm create rocky9 --name no-key-yet")
    bot.wait_ephemeral("SSH key")
    records = bot.standin.wait_for(lambda: _create_records(bot), 10)
    assert [(r.result, r.name, r.via) for r in records] == [("failed", "no-key-yet", "slack")]
    assert "key" in (records[0].error or "")


def test_an_unknown_distribution_is_recorded(bot: Harness) -> None:
    bot.runtime.keys.set(ALICE, KEY)
    bot.user.slash("vm create plan9")
    bot.wait_ephemeral("Unknown distribution")
    records = bot.standin.wait_for(lambda: _create_records(bot), 10)
    assert [r.result for r in records] == ["failed"]
    assert "Unknown distribution 'plan9'" in (records[0].error or "")
    assert records[0].params == {"template": "plan9"}
