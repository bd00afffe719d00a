"""`solti quota [--user NAME] [--json]`: what a person's VMs hold against the quotas."""

from __future__ import annotations

import json
from typing import Any

import click

from solti.provisioning.cli.context import CliApp, cluster_option, guarded, pass_app

__all__ = ["quota_command"]


def _line(key: str, used: Any, limit: Any) -> str:
    return f"{key:<8} {used} of {limit if limit is not None else 'no limit'}"


@click.command("quota")
@click.option("--user", help="Whose quota (the owner as the audit log records it); default: you.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@cluster_option
@pass_app
@guarded
def quota_command(app: CliApp, user: str | None, as_json: bool) -> None:
    """A user's VMs, cores, memory (MiB) and disk against policy `quotas`."""
    app.authorize("quota")
    report = app.provisioner.quota(user or app.actor)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    used, limits = report["used"], report["limits"]
    lines = [f"quota of {report['user']}"]
    lines += [_line(k, used[k], limits[k]) for k in ("vms", "cores", "memory", "disk")]
    held = ", ".join(f"{v['vmid']} {v['name']}" for v in report["vms"]) or "none"
    lines.append(f"held by: {held}")
    click.echo("\n".join(lines))
