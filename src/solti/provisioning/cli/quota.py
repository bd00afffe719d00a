"""`solti quota [--user NAME] [--json]`: what a person's VMs hold against the quotas.

Quotas are per cluster (each cluster's VMs count against its own limits). With several
clusters configured and no ``--cluster`` (or ``--cluster all``), each cluster's usage is shown
under its name; a cluster that does not answer is named in one line, as lists do.
"""

from __future__ import annotations

import json
from typing import Any

import click

from solti.provisioning.cli.cluster_lists import chosen_provisioner, spanned
from solti.provisioning.cli.context import CliApp, cluster_option, fail, guarded, pass_app
from solti.provisioning.clusters import split, unanswered_line, unanswered_reason

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
    """A user's VMs, cores, memory (MiB) and disk against policy `quotas`, per cluster."""
    app.authorize("quota")
    whose = user or app.actor
    answers = spanned(app, lambda provisioner: provisioner.quota(whose))
    if answers is None:  # one cluster: the output it always had
        report = chosen_provisioner(app).quota(whose)
        click.echo(json.dumps(report, indent=2) if as_json else "\n".join(_lines(report)))
        return
    done, unanswered = split(answers)
    if not done:
        fail("; ".join(unanswered_line(a.cluster, a.error) for a in unanswered))
    if as_json:
        parts: list[dict[str, Any]] = [{"cluster": a.cluster, **a.value} for a in done]
        parts += [
            {"cluster": a.cluster, "error": unanswered_reason(a.cluster, a.error)}
            for a in unanswered
        ]
        click.echo(json.dumps({"user": whose, "clusters": parts}, indent=2))
        return
    blocks = ["\n".join(_lines(a.value, a.cluster)) for a in done]
    blocks += [unanswered_line(a.cluster, a.error) for a in unanswered]
    click.echo("\n\n".join(blocks))


def _lines(report: dict[str, Any], cluster: str | None = None) -> list[str]:
    used, limits = report["used"], report["limits"]
    where = f" on cluster {cluster}" if cluster else ""
    lines = [f"quota of {report['user']}{where}"]
    lines += [_line(k, used[k], limits[k]) for k in ("vms", "cores", "memory", "disk")]
    held = ", ".join(f"{v['vmid']} {v['name']}" for v in report["vms"]) or "none"
    lines.append(f"held by: {held}")
    return lines
