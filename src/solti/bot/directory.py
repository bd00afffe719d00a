"""Slack usergroup membership, looked up only when the policy names a usergroup.

Policy lists may hold usergroup ids (S...). Resolving them costs a Web API call, so results are
cached for a few minutes; a lookup failure counts as "not a member" (fail closed) and is logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

__all__ = ["Directory"]

log = logging.getLogger("solti.bot.directory")


class Directory:
    def __init__(
        self,
        client: Any,
        usergroups: Collection[str],
        ttl: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.usergroups = tuple(sorted(usergroups))
        self.ttl = ttl
        self.monotonic = monotonic
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def _members(self, group: str) -> frozenset[str]:
        now = self.monotonic()
        with self._lock:
            cached = self._cache.get(group)
            if cached and now - cached[0] < self.ttl:
                return cached[1]
        try:
            response = self.client.usergroups_users_list(usergroup=group)
            members = frozenset(response.get("users") or [])
        except Exception as exc:
            log.warning(
                "usergroup %s lookup failed (%s); treating as no members", group, type(exc).__name__
            )
            return frozenset()
        with self._lock:
            self._cache[group] = (now, members)
        return members

    def groups_of(self, user: str) -> frozenset[str]:
        """The policy-named usergroups ``user`` belongs to (empty when the policy names none)."""
        return frozenset(g for g in self.usergroups if user in self._members(g))
