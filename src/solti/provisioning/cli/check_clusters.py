"""`solti check` for every cluster of the policy (``clusters:``), beside the ``PROXMOX_*`` one.

Each cluster gets the same Proxmox items as ``default`` (``check_proxmox``), named
``proxmox[NAME].…`` and with the fix naming that cluster's policy keys, not the ``PROXMOX_*``
variables. The clusters are checked at once, so one that does not answer costs its own
timeout and never hides the others' lines. The secret is read from the variable the entry names
and never printed: a missing one is reported by the variable's name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from solti.provisioning.cli.check_proxmox import check_proxmox
from solti.provisioning.cli.check_report import CheckConfig, CheckResult

__all__ = ["check_clusters", "cluster_check_config"]


def cluster_check_config(
    config: CheckConfig, name: str, entry: Any, environ: Mapping[str, str]
) -> CheckConfig:
    """``config`` (storages, bridge, database) with cluster ``name``'s connection."""
    return dataclasses.replace(
        config,
        proxmox_url=entry.url,
        token_id=entry.token_id,
        token_secret=(environ.get(entry.token_secret_env) or "").strip() or None,
        verify_ssl=entry.verify_ssl,
        ca_bundle=str(entry.ca_bundle) if entry.ca_bundle else None,
    )


def _renamed(result: CheckResult, name: str, entry: Any) -> CheckResult:
    """``proxmox.x`` -> ``proxmox[name].x``; the variables in the text -> this cluster's keys."""
    words = {
        "PROXMOX_URL": f"clusters.{name}.url",
        "PROXMOX_TOKEN_ID": f"clusters.{name}.token_id",
        "PROXMOX_TOKEN_SECRET": entry.token_secret_env,
        "PROXMOX_CA_BUNDLE": f"clusters.{name}.ca_bundle",
        "PROXMOX_VERIFY_SSL": f"clusters.{name}.verify_ssl",
    }

    def swap(text: str | None) -> str | None:
        if text is None:
            return None
        for variable, key in words.items():
            text = text.replace(variable, key)
        return text

    head, _, rest = result.name.partition(".")
    return CheckResult(
        f"{head}[{name}].{rest}" if rest else f"{head}[{name}]",
        result.status,
        swap(result.detail) or "",
        swap(result.fix),
    )


def _one(
    config: CheckConfig, name: str, entry: Any, environ: Mapping[str, str]
) -> list[CheckResult]:
    chosen = cluster_check_config(config, name, entry, environ)
    if chosen.token_secret is None:
        return [
            CheckResult(
                f"proxmox[{name}].config",
                "fail",
                f"the environment variable {entry.token_secret_env} (clusters.{name}."
                "token_secret_env) is not set",
                f"export the API token secret of {entry.token_id} in {entry.token_secret_env}",
            )
        ]
    return [_renamed(result, name, entry) for result in check_proxmox(chosen)]


def check_clusters(
    config: CheckConfig, environ: Mapping[str, str], only: str | None = None
) -> list[CheckResult]:
    """The Proxmox items of every policy cluster (or only ``only``), in the file's order."""
    entries = {n: e for n, e in config.clusters.items() if only in (None, n)}
    if not entries:
        return []
    with ThreadPoolExecutor(min(8, len(entries)), thread_name_prefix="solti-check") as pool:
        parts = pool.map(lambda item: _one(config, item[0], item[1], environ), entries.items())
        return [result for part in parts for result in part]
