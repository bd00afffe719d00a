"""The stand-in escapes slash text as Slack does; the bot stores what the person typed.

https://docs.slack.dev/interactivity/implementing-slash-commands (should_escape: links and
e-mails arrive as ``<mailto:a@b|a@b>``, ``&`` as ``&amp;``).
"""

from __future__ import annotations

from tests.bot.conftest import ALICE, Harness, new_key


def test_a_key_comment_with_an_email_is_stored_unescaped(bot: Harness) -> None:
    key = new_key("alice@example.com & co")
    bot.user.slash(f"key set {key}")
    saved = bot.wait_ephemeral("Fingerprint")
    assert "mailto:" not in saved
    stored = bot.runtime.keys.get(ALICE)
    assert stored is not None and stored.key.endswith("alice@example.com & co")
