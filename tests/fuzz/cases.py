"""Fuzz cases shared by the suite (a few hundred) and ``bench/chaos.py --fuzz N`` (thousands).

Three kinds of input, each checked against the real thing:

- slash texts: the grammar's own words, mutated (unicode, zero-width and right-to-left marks,
  40 kB strings, shell metacharacters, mentions, huge and negative numbers), typed into the
  bot over signed HTTP;
- interactive payloads of the wrong shape (unknown action ids, stale ts, values that are not
  JSON, form submissions with missing or extra blocks, huge private_metadata), signed too;
- policy files: wrong types, unknown keys, anchors, bytes that are not UTF-8.

A ``Tally`` counts what must stay zero: unhandled exceptions (a log record with a traceback),
HTTP 5xx answers, bad input answered without a sentence, VMs made by malformed commands.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from hypothesis import strategies as st

from solti.bot import grammar
from solti.provisioning import ConfigError, load_policy

__all__ = [
    "ExceptionCounter",
    "Tally",
    "check_payload",
    "check_policy_file",
    "check_slash",
    "payloads",
    "policy_files",
    "signed_post",
    "slash_texts",
]

WORDS = [
    "vm", "create", "list", "mine", "verify", "start", "stop", "shutdown", "remove",
    "template", "build", "destroy", "key", "set", "show", "audit", "report", "help",
    "rocky9", "debian12", "--name", "--vmid", "--disk", "--cores", "--memory", "--full",
    "--node", "--ip", "--gw", "--dry-run", "20G", "web-1", "100", "9000",
]  # fmt: skip
ODD = [
    "\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "é", "ß", "🚀", "<@U0BOB>", "<!channel>",
    "<#C0INFRA|infra>", "$(reboot)", "`id`", "; rm -rf /", "|", "&&", "'", '"', "\\",
    "99999999999999999999", "-1", "-99999", "0", "1e309", "NaN", "10.0.0.5/24", "&amp;",
    "\n", "\t", "%s", "{}", "null",
]  # fmt: skip

token = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(ODD),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=12),
)
slash_texts = st.one_of(
    st.lists(token, max_size=10).map(" ".join),
    st.builds(lambda head, tail: head + tail, st.sampled_from(WORDS), st.sampled_from(ODD)),
    st.integers(min_value=1, max_value=40_000).map(lambda n: "vm create " + "a" * n),
    st.text(max_size=200),
)

ACTION_IDS = ["open_create_modal", "approval_approve", "approval_deny", "vm_remove", "nope", ""]
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20)),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _action(action_id: str, value: Any, ts: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "block_id": "b",
        "value": value,
        "action_ts": ts,
    }


block_actions = st.builds(
    lambda user, action, extra: {
        "type": "block_actions",
        "user": user,
        "trigger_id": "t-fuzz",
        "actions": [action],
        **extra,
    },
    st.one_of(st.just({"id": "U0FUZZ"}), json_values),
    st.builds(
        _action,
        st.sampled_from(ACTION_IDS),
        st.one_of(st.text(max_size=30), json_values, st.just("{not json")),
        st.one_of(st.just("1.000001"), st.just("0"), json_values),
    ),
    st.dictionaries(st.sampled_from(["channel", "container", "view", "message"]), json_values),
)
view_submissions = st.builds(
    lambda user, blocks, metadata, extra: {
        "type": "view_submission",
        "user": user,
        "trigger_id": "t-fuzz-view",
        "view": {
            "id": "V0FUZZ",
            "callback_id": "vm_create",
            "private_metadata": metadata,
            "state": {"values": blocks},
            **extra,
        },
    },
    st.one_of(st.just({"id": "U0FUZZ"}), json_values),
    st.dictionaries(
        st.sampled_from(["template", "name", "vmid", "disk", "cores", "memory", "extra", "ip"]),
        st.dictionaries(st.text(max_size=8), json_values, max_size=2),
        max_size=5,
    ),
    st.one_of(
        st.just('{"channel": "C0INFRA"}'),
        st.integers(0, 5000).map(lambda n: json.dumps({"channel": "C0INFRA", "x": "y" * n})),
        json_values.map(json.dumps),
        st.text(max_size=40),
        json_values,
    ),
    st.dictionaries(st.sampled_from(["blocks", "hash", "state"]), json_values, max_size=2),
)
payloads = st.one_of(block_actions, view_submissions, json_values)

POLICY_KEYS = [
    "admins", "approvers", "creators", "allowed_channels", "quotas", "approvals",
    "reports", "defaults", "distributions", "approvals_channel", "unknown_key",
]  # fmt: skip
policy_documents = st.dictionaries(st.sampled_from(POLICY_KEYS), json_values, max_size=5)
policy_files = st.one_of(
    policy_documents.map(lambda d: json.dumps(d).encode()),
    st.binary(max_size=200),
    st.integers(1, 9).map(
        lambda n: "\n".join(
            ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
            + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, n + 1)]
        ).encode()
    ),
    st.sampled_from([b"admins: &a [U0A, *a]\n", b"admins: [U0A]\n# caf\xe9\n", b"- 1\n- 2\n"]),
)


class ExceptionCounter(logging.Handler):
    """Counts log records that carry a traceback: each is an exception nobody handled."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.exc_text:
            self.records.append(f"{record.name}: {record.getMessage()[:200]}")


@dataclass
class Tally:
    cases: int = 0
    server_errors: int = 0
    silent: int = 0  # bad input answered without a sentence
    vms_made: int = 0
    unhandled: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"cases {self.cases}, unhandled exceptions {len(self.unhandled)}, "
            f"HTTP 5xx {self.server_errors}, bad input without a sentence {self.silent}, "
            f"VMs made by malformed commands {self.vms_made}"
        )


def check_slash(user: Any, text: str, tally: Tally) -> None:
    """One slash command; a text the grammar refuses must be answered in the ack."""
    tally.cases += 1
    reply = user.slash(text)
    if reply.status_code >= 500:
        tally.server_errors += 1
        return
    try:
        grammar.parse(text)
    except grammar.UsageError:
        body = reply.json() if reply.content.strip() else {}
        if not str(body.get("text", "")).strip():
            tally.silent += 1


def signed_post(user: Any, body: bytes) -> requests.Response:
    """POST ``body`` signed as Slack signs it (over the raw bytes), whatever it holds."""
    timestamp = str(int(time.time()))
    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(user.signing_secret.encode(), base, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
    }
    return requests.post(user.bot_url, data=body, headers=headers, timeout=10)


def check_payload(user: Any, payload: Any, tally: Tally) -> None:
    tally.cases += 1
    reply = signed_post(user, ("payload=" + urllib.parse.quote(json.dumps(payload))).encode())
    if reply.status_code >= 500:
        tally.server_errors += 1


def check_policy_file(path: Path, data: bytes, tally: Tally) -> None:
    """A policy file either loads or is refused with a ConfigError (a sentence)."""
    tally.cases += 1
    path.write_bytes(data)
    try:
        load_policy(path)
    except ConfigError as exc:
        if not str(exc).strip():
            tally.silent += 1
    except Exception as exc:  # anything else would reach `solti bot` as a traceback
        tally.unhandled.append(f"policy: {type(exc).__name__}: {str(exc)[:120]}")
