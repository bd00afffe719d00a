"""`solti check`: say what is wrong with a set-up before anybody tries to use it.

It composes the two halves, each kept where its knowledge lives: the policy, database and
Proxmox VE items (`solti.provisioning.cli.check`) and the Slack items (`solti.bot.slack_check`).
Each item prints one line, and a failing item says how to fix it. The checks only read, so
running them against production is safe.

Outcomes: `ok`, `warn` (works, but not as it should in production, e.g. TLS verification off),
`skip` (not applicable or cannot be checked, with the reason) and `fail`. The exit code is 0
only when nothing failed; `--strict` also fails on `warn` and `skip`, for a set-up that must
use everything (Slack included).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import asdict

import click

from solti.bot.slack_check import SlackCheckConfig, check_slack
from solti.provisioning.cli.check import run_provisioning_checks
from solti.provisioning.cli.check_report import CheckResult, format_report
from solti.provisioning.cli.context import CliApp, cluster_option, guarded, json_option

__all__ = ["check_command", "run_checks"]


def run_checks(environ: Mapping[str, str], cluster: str | None = None) -> list[CheckResult]:
    """Every item in report order (provisioning first, then Slack); never raises.
    ``cluster``: that cluster's Proxmox items alone (default: every cluster's)."""
    results = run_provisioning_checks(environ, cluster)
    results.extend(check_slack(SlackCheckConfig.from_environ(environ)))
    return results


@click.command("check")
@json_option
@click.option("--strict", is_flag=True, help="Fail on warnings and skipped items too.")
@cluster_option
@guarded
def check_command(as_json: bool, strict: bool) -> None:
    """Check the configuration, Slack, Proxmox VE and the database; exit 0 when all pass."""
    chosen = click.get_current_context().find_object(CliApp)
    results = run_checks(os.environ, chosen.cluster if chosen else None)
    failing = {"fail", "warn", "skip"} if strict else {"fail"}
    passed = not any(result.status in failing for result in results)
    if as_json:
        click.echo(json.dumps({"ok": passed, "checks": [asdict(r) for r in results]}, indent=2))
    else:
        click.echo(format_report(results))
    if not passed:
        failed = sum(result.status in failing for result in results)
        click.echo(f"solti check: {failed} item(s) need attention", err=True)
        sys.exit(1)
