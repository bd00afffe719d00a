"""The provisioning items of `solti check`: the policy file, the database, Proxmox VE.

Each item is one `CheckResult` line, and a failing item says how to fix it, because an
operator reads this on day one with nothing else to go on. The checks only read (Proxmox GETs,
a rolled-back SQLite write), so running them against production is safe.

The Slack items are the bot's (`solti.bot.slack_check`); `solti.check_command` runs both and prints
the report. The pure parts live in `check_report` (results, id shapes, the report) and the
Proxmox items in `check_proxmox` (with the privilege table); this module reads the
configuration and the DB.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from solti.provisioning.cli.check_clusters import check_clusters
from solti.provisioning.cli.check_proxmox import check_proxmox
from solti.provisioning.cli.check_report import CheckConfig, CheckResult, policy_id_results

__all__ = ["check_database", "load_check_config", "run_provisioning_checks"]


# --- configuration --------------------------------------------------------------------------


def _flag(value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def load_check_config(environ: Mapping[str, str]) -> tuple[CheckConfig, list[CheckResult]]:
    """Read the environment and the policy file; problems become report lines, not crashes."""
    from solti.provisioning.settings_sources import environment_with_files

    environ = environment_with_files(environ)  # values in SOLTI_ENV_FILE or Docker secrets too
    results: list[CheckResult] = []
    config = CheckConfig(
        proxmox_url=environ.get("PROXMOX_URL") or None,
        token_id=environ.get("PROXMOX_TOKEN_ID") or None,
        token_secret=environ.get("PROXMOX_TOKEN_SECRET") or None,
        verify_ssl=_flag(environ.get("PROXMOX_VERIFY_SSL"), True),
        ca_bundle=environ.get("PROXMOX_CA_BUNDLE") or None,
        db_path=Path(environ.get("SOLTI_DB") or "solti.db"),
        config_path=environ.get("SOLTI_CONFIG") or None,
    )
    if not config.config_path:
        _apply_policy(config, _load_policy(None))
        results.append(
            CheckResult(
                "policy.file",
                "ok",
                "SOLTI_CONFIG not set: built-in defaults (no approvers, any channel)",
            )
        )
        return config, results
    try:
        policy = _load_policy(Path(config.config_path))
    except Exception as exc:  # the loader's errors name the key; show them as they are
        results.append(
            CheckResult(
                "policy.file",
                "fail",
                f"{config.config_path}: {exc}",
                "fix the key named above (docs/configuration.md lists every key)",
            )
        )
        return config, results
    _apply_policy(config, policy)
    results.append(CheckResult("policy.file", "ok", f"{config.config_path} loaded"))
    return config, results


def _load_policy(path: Path | None) -> Any:
    from solti.provisioning.config import load_policy

    return load_policy(path)


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if obj is None:
            return None
        obj = obj.get(part) if isinstance(obj, Mapping) else getattr(obj, part, None)
    return obj


def _apply_policy(config: CheckConfig, policy: Any) -> None:
    config.image_storage = _get(policy, "defaults.image_storage")
    config.vm_storage = _get(policy, "defaults.vm_storage")
    config.bridge = _get(policy, "defaults.bridge")
    config.approvers = [str(v) for v in _get(policy, "approvers") or []]
    config.admins = [str(v) for v in _get(policy, "admins") or []]
    channels = {
        "approvals_channel": _get(policy, "approvals_channel"),
        "reports.channel": _get(policy, "reports.channel"),
    }
    for index, channel in enumerate(_get(policy, "allowed_channels") or []):
        channels[f"allowed_channels[{index}]"] = channel
    config.channels = {key: str(value) for key, value in channels.items() if value}
    config.clusters = dict(_get(policy, "clusters") or {})


# --- database -------------------------------------------------------------------------------


def check_database(path: Path) -> CheckResult:
    """A write transaction that is rolled back: proves the file and its directory are writable."""
    directory = path.parent if str(path.parent) else Path(".")
    fix = f"create {directory} and make it writable by the user running solti (SOLTI_DB)"
    if not directory.is_dir():
        return CheckResult("database", "fail", f"directory {directory} does not exist", fix)
    # WAL mode writes solti.db-wal and -shm next to the file.
    if not os.access(directory, os.W_OK):
        return CheckResult("database", "fail", f"directory {directory} is not writable", fix)
    if not path.exists():
        return CheckResult("database", "ok", f"{path} will be created on first use")
    try:
        connection = sqlite3.connect(path, timeout=5)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        finally:
            connection.close()
    except sqlite3.Error as exc:
        return CheckResult("database", "fail", f"{path}: {exc}", fix)
    return CheckResult("database", "ok", f"{path} is writable")


# --- all of the above -----------------------------------------------------------------------


def run_provisioning_checks(
    environ: Mapping[str, str], cluster: str | None = None
) -> list[CheckResult]:
    """The policy, database and Proxmox items in report order; never raises for a bad set-up.

    The Proxmox items run for ``default`` (``PROXMOX_*``) and then for each cluster of the
    policy (``proxmox[NAME].…``); ``cluster`` checks that one alone.
    """
    config, results = load_check_config(environ)
    if results and results[-1].status == "ok":
        results.extend(policy_id_results(config))
    results.append(check_database(config.db_path))
    if cluster in (None, "default"):
        results.extend(check_proxmox(config))
    elif cluster not in config.clusters:
        known = ", ".join(["default", *config.clusters])
        results.append(
            CheckResult(
                "cluster",
                "fail",
                f"unknown cluster {cluster!r}; known: {known}",
                "name a cluster of the policy's `clusters:` (or default)",
            )
        )
    if cluster != "default":
        from solti.provisioning.settings_sources import environment_with_files

        results.extend(check_clusters(config, environment_with_files(environ), cluster))
    return results
