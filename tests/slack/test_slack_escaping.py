"""Slash text escaped as Slack escapes it (``should_escape: true``), and the bot's grammar
reading it back as typed.

https://docs.slack.dev/interactivity/implementing-slash-commands ("Escaping" with
should_escape) and https://docs.slack.dev/messaging/formatting-message-text (escaping
``& < >``, links, ``<mailto:…|…>``, ``<!here>``, ``<!subteam^ID|@handle>``).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from solti.bot import grammar
from solti.bot.grammar.unescape import unescape
from solti.sandbox.slack.escaping import escape_slash_text

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
USERS = {"U0BOB": {"name": "bob"}}
GROUPS = {"S0OPS": {"handle": "ops"}}
CHANNELS = {"C0INFRA": {"name": "infra"}}


def _escape(text: str) -> str:
    return escape_slash_text(text, USERS, GROUPS, CHANNELS)


def test_the_manifest_asks_for_escaping() -> None:
    """The stand-in escapes because the app's slash command says so."""
    commands = yaml.safe_load(MANIFEST.read_text())["features"]["slash_commands"]
    assert all(c["should_escape"] is True for c in commands)


def test_entities_links_and_emails() -> None:
    assert _escape("a & b <c> d") == "a &amp; b &lt;c&gt; d"
    assert _escape("see https://example.com/x?a=1&b=2.") == (
        "see <https://example.com/x?a=1&amp;b=2>."
    )
    assert _escape("key set ssh-ed25519 AAAA alice@example.com") == (
        "key set ssh-ed25519 AAAA <mailto:alice@example.com|alice@example.com>"
    )


def test_mentions_broadcasts_groups_and_channels() -> None:
    assert _escape("audit --user @bob") == "audit --user <@U0BOB|bob>"
    assert _escape("@here and @channel") == "<!here> and <!channel>"
    assert _escape("ping @ops in #infra") == "ping <!subteam^S0OPS|@ops> in <#C0INFRA|infra>"
    assert _escape("@nobody #nowhere") == "@nobody #nowhere"


def test_the_grammar_reads_back_what_was_typed() -> None:
    typed = "vm create rocky9 --name a&b <x> https://example.com me@example.com @here @ops #infra"
    assert unescape(_escape(typed)) == typed
    assert unescape("<http://example.com|example.com>") == "example.com"
    assert unescape("&amp;lt;") == "&lt;"  # a typed entity stays an entity


def test_key_comments_are_stored_as_typed_not_as_markup() -> None:
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG alice@example.com"
    assert grammar.parse(_escape(f"key set {key}")) == grammar.KeySet(key)


def test_person_mentions_stay_for_user_options() -> None:
    assert grammar.parse(_escape("audit --user @bob")) == grammar.Audit(user="U0BOB", vmid=None)
