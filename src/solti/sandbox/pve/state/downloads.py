"""``download-url``: the checks made before forking, then a task that files the fetched data.

The HTTP layer fetches the URL between :meth:`Downloads.plan` and :meth:`Downloads.start`,
outside the model lock, so a slow mirror never blocks other API calls.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.state.storages import Storages
from solti.sandbox.pve.state.tasks import TaskError, Tasks

FILENAME_RULES = {
    "import": (
        re.compile(r"^[a-zA-Z0-9\-.+=_]+\.(ova|qcow2|raw|vmdk)$"),
        "invalid filename or wrong extension",
    ),
    "iso": (re.compile(r"^[^/]+\.(iso|img)$", re.I), "wrong file extension"),
    "vztmpl": (re.compile(r"^[^/]+\.tar\.([gx]z|zst|bz2)$"), "wrong file extension"),
}
CONTENT_DIRS = {"import": "import", "iso": "template/iso", "vztmpl": "template/cache"}


@dataclass
class DownloadPlan:
    """What a download-url call will do, decided under the lock before any fetching."""

    node: str
    storage: str
    content: str
    filename: str
    path: str
    exists: bool
    existing_sum: str | None
    checksum: str | None
    algorithm: str | None

    @property
    def needs_fetch(self) -> bool:
        return not self.exists


class Downloads:
    """Plans and starts downloads; the files land in ``Storages``, the work in ``Tasks``."""

    def __init__(self, storages: Storages, tasks: Tasks) -> None:
        self._storages = storages
        self._tasks = tasks

    def plan(self, node: str, params: dict[str, Any]) -> DownloadPlan:
        """The checks download-url makes before forking (HTTP errors)."""
        storage = self._storages.require(params["storage"])
        content = params["content"]
        if not storage.file_based:
            raise PveError(
                500, f"can't upload to storage type '{storage.type}', not a file based storage!"
            )
        if content not in storage.content:
            raise PveError(
                500, f"storage '{storage.id}' is not configured for content-type '{content}'"
            )
        filename = re.sub(r"[^a-zA-Z0-9_.\-]", "_", params["filename"].rsplit("/", 1)[-1])
        pattern, message = FILENAME_RULES[content]
        if not pattern.match(filename):
            raise PveError(400, "Parameter verification failed.", {"filename": message})
        folder = "iso" if content == "iso" else content
        existing = self._storages.find_volume(f"{storage.id}:{folder}/{filename}", node)
        algorithm = params.get("checksum-algorithm")
        existing_sum = None
        if existing is not None and algorithm and existing.data is not None:
            existing_sum = hashlib.new(algorithm, existing.data).hexdigest()
        return DownloadPlan(
            node,
            storage.id,
            content,
            filename,
            f"{storage.path}/{CONTENT_DIRS[content]}/{filename}",
            existing is not None,
            existing_sum,
            (params.get("checksum") or "").lower() or None,
            algorithm,
        )

    def start(
        self, plan: DownloadPlan, user: str, data: bytes | None, fetch_error: str | None
    ) -> str:
        """Start the ``download`` task whose outcome was fetched (or not) beforehand."""

        def work() -> list[str]:
            if plan.exists:
                if plan.checksum is None:
                    raise TaskError(f"refusing to override existing file '{plan.path}'")
                if plan.existing_sum != plan.checksum:
                    raise TaskError(
                        f"checksum mismatch: got '{plan.existing_sum}' != expect '{plan.checksum}'"
                        ", aborting"
                    )
                return [f"file '{plan.path}' already exists, checksum matches, skipping download"]
            if fetch_error is not None or data is None:
                raise TaskError(f"download failed: {fetch_error}")
            if plan.checksum and plan.algorithm:
                got = hashlib.new(plan.algorithm, data).hexdigest()
                if got != plan.checksum:
                    raise TaskError(f"checksum mismatch: got '{got}' != expect '{plan.checksum}'")
            self._storages.add_file(plan.storage, plan.content, plan.filename, data, plan.node)
            return [f"downloading to {plan.path}", f"download of {len(data)} bytes finished"]

        return self._tasks.start(plan.node, "download", plan.filename, user, work).upid
