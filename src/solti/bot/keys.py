"""Per-Slack-user SSH public keys: registered once, added to every VM the person creates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from solti.bot.db import BotDatabase
from solti.provisioning import InvalidRequest, SshKey, parse_ssh_key

__all__ = ["KeyStore", "StoredKey"]


@dataclass(frozen=True)
class StoredKey:
    user_id: str
    key: str
    fingerprint: str

    @property
    def key_type(self) -> str:
        return self.key.split()[0]

    @property
    def label(self) -> str:
        parts = self.key.split(None, 2)
        return parts[2] if len(parts) == 3 else self.fingerprint[:19]


def validated_key(text: str) -> SshKey:
    """Validate with provisioning's own parser (the rules a create applies) and normalise."""
    if "\n" in text.strip():
        raise InvalidRequest("paste one public key on a single line", field="ssh_keys")
    return parse_ssh_key(text)


class KeyStore:
    def __init__(self, database: BotDatabase, clock: Callable[[], datetime] | None = None) -> None:
        self.database = database
        self.clock = clock or (lambda: datetime.now(UTC))

    def set(self, user_id: str, text: str) -> StoredKey:
        """Validate as an OpenSSH public key (provisioning raises InvalidRequest) and store it."""
        parsed = validated_key(text)
        line, fingerprint = parsed.line, parsed.fingerprint
        row = {
            "user_id": user_id,
            "key": line,
            "fingerprint": fingerprint,
            "updated_at": self.clock().isoformat(),
        }
        with self.database.transaction():
            self.database.db["slack_ssh_keys"].upsert(row, pk="user_id")
        return StoredKey(user_id, line, fingerprint)

    def get(self, user_id: str) -> StoredKey | None:
        with self.database.lock:
            rows = list(self.database.db["slack_ssh_keys"].rows_where("user_id = ?", [user_id]))
        if not rows:
            return None
        return StoredKey(rows[0]["user_id"], rows[0]["key"], rows[0]["fingerprint"])

    def remove(self, user_id: str) -> bool:
        with self.database.transaction() as conn:
            cursor = conn.execute("DELETE FROM slack_ssh_keys WHERE user_id = ?", [user_id])
            return cursor.rowcount == 1
