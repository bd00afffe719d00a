"""Thin request handlers: validated parameters in, cluster model call, JSON-able data out.

A handler gets a :class:`Call`; ``call.cluster()`` enters the model lock (bringing tasks up to
date first). Only download-url leaves the lock in between, to fetch its URL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from solti.sandbox.pve.auth import Authenticator, Identity
from solti.sandbox.pve.state import Cluster


@dataclass
class Call:
    """One validated API call."""

    params: dict[str, Any]
    identity: Identity | None
    model: Cluster
    lock: threading.RLock
    now: Callable[[], float]
    auth: Authenticator

    @contextmanager
    def cluster(self) -> Iterator[Cluster]:
        with self.lock:
            self.model.advance(self.now())
            yield self.model

    @property
    def user(self) -> str:
        return self.identity.task_user if self.identity else "root@pam"

    @property
    def node(self) -> str:
        return self.params["node"]

    @property
    def vmid(self) -> int:
        return int(self.params["vmid"])


Handler = Callable[[Call], Any]
