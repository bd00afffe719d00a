"""A whole simulated world for ``solti``: Proxmox VE simulator, image mirror, policy file.

Tests, the ``solti sim pve`` launcher and the sandbox console all need the same three things
wired together: a cluster to talk to, a mirror the cluster downloads images from, and a
policy file whose catalog points at that mirror. ``SimEnvironment.env`` is then everything
the operator CLI or the bot needs to work against it, exactly as against a real cluster.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from solti.sandbox.mirror import ImageMirror

__all__ = ["SimEnvironment", "merge_policy"]

POLICY_FILENAME = "policy.yaml"


def merge_policy(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``extra`` laid over ``base``; nested mappings merge, anything else is replaced.

    Lets a test override one key of one distribution (``distributions.rocky9.tags``) without
    losing the mirror URLs of that entry.
    """
    merged: dict[str, Any] = dict(base)
    for key, value in extra.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = merge_policy(current, value)
        else:
            merged[key] = value
    return merged


class SimEnvironment:
    """Starts an ``ImageMirror`` and a ``PveSimulator`` and writes a policy file for them.

    ``workdir`` holds the policy file; when not given a temporary directory is made and
    removed again by ``stop()``. ``policy`` is merged over the generated
    ``{"distributions": mirror.catalog_overrides()}``. ``port`` is the simulator's port
    (0: any free one); the mirror always takes a free port.
    """

    def __init__(
        self,
        nodes: int = 1,
        shared_storage: bool = False,
        workdir: str | Path | None = None,
        policy: Mapping[str, Any] | None = None,
        port: int = 0,
        simulator_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.nodes = nodes
        # More ``PveSimulator`` keywords (``node_memory``, ``storage_nodes``).
        self._simulator_options = dict(simulator_options or {})
        self.shared_storage = shared_storage
        self._workdir_given = workdir is not None
        self._workdir = Path(workdir) if workdir is not None else None
        self._policy_extra: dict[str, Any] = dict(policy or {})
        self._port = port
        self.mirror = ImageMirror()
        self.pve: Any = None
        self._started = False

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> SimEnvironment:
        """Start the mirror and the simulator and write the policy file; idempotent."""
        if self._started:
            return self
        from solti.sandbox.pve import PveSimulator  # the simulator is heavy; import when needed

        try:
            self.mirror.start()
            kwargs: dict[str, Any] = {"nodes": self.nodes, "shared_storage": self.shared_storage}
            if self._port:
                kwargs["port"] = self._port
            kwargs.update(self._simulator_options)
            self.pve = PveSimulator(**kwargs)
            self.pve.start()
            if self._workdir is None:
                self._workdir = Path(tempfile.mkdtemp(prefix="solti-sim-"))
            else:
                self._workdir.mkdir(parents=True, exist_ok=True)
            self._started = True
            self.write_policy()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop both servers and remove a temporary workdir; safe to call twice."""
        self._started = False
        pve, self.pve = self.pve, None
        try:
            if pve is not None:
                pve.stop()
        finally:
            self.mirror.stop()
            if self._workdir is not None and not self._workdir_given:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None

    def reset(self) -> None:
        """Fresh cluster state and first mirror builds, with the same URLs and credentials."""
        self.mirror.reset()
        if self.pve is not None:
            self.pve.reset()

    def __enter__(self) -> SimEnvironment:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- facts ---------------------------------------------------------------------------------

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("the simulated environment is not started")
        return self._workdir

    @property
    def config_path(self) -> Path:
        """The policy file (``SOLTI_CONFIG``)."""
        return self.workdir / POLICY_FILENAME

    @property
    def url(self) -> str:
        return self._pve().url

    def policy(self) -> dict[str, Any]:
        """The policy written to ``config_path``: mirror catalog plus the caller's extras."""
        return merge_policy({"distributions": self.mirror.catalog_overrides()}, self._policy_extra)

    def write_policy(self, extra: Mapping[str, Any] | None = None) -> Path:
        """(Re)write the policy file, optionally merging more settings in first."""
        if extra:
            self._policy_extra = merge_policy(self._policy_extra, extra)
        path = self.config_path
        path.write_text(yaml.safe_dump(self.policy(), sort_keys=False), encoding="utf-8")
        return path

    @property
    def env(self) -> dict[str, str]:
        """Every environment variable ``solti`` needs to work against this environment."""
        pve = self._pve()
        return {
            "PROXMOX_URL": pve.url,
            "PROXMOX_TOKEN_ID": pve.token_id,
            "PROXMOX_TOKEN_SECRET": pve.token_secret,
            "PROXMOX_VERIFY_SSL": "true",
            "PROXMOX_CA_BUNDLE": str(pve.ca_path),
            "SOLTI_CONFIG": str(self.config_path),
        }

    def _pve(self) -> Any:
        if self.pve is None:
            raise RuntimeError("the simulated environment is not started")
        return self.pve
