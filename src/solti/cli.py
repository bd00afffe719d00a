"""The `solti` console script (and ``python -m solti``): one click group, one loader per verb.

Each verb's module is imported inside its own small loader function, so `solti --help` and
`solti vm create` import only what they use, while "go to definition" on the import still
leads to the command. A verb whose module fails to import says which module and why (the
exception's message, no traceback) and exits 1: a broken install is named, not hidden.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click

__all__ = ["VERBS", "Verb", "main"]


def _bot() -> click.Command:
    gc.enable()  # a server: see LazyGroup.main
    from solti.bot_command import bot_command

    return bot_command


def _sandbox() -> click.Command:
    gc.enable()  # a server: see LazyGroup.main
    from solti.sandbox.console import sandbox_command

    return sandbox_command


def _sim() -> click.Command:
    gc.enable()  # a server: see LazyGroup.main
    from solti.sandbox.launcher import sim_group

    return sim_group


def _template() -> click.Command:
    from solti.provisioning.cli.template import template_group

    return template_group


def _snapshot() -> click.Command:
    from solti.provisioning.cli.snapshot import snapshot_group

    return snapshot_group


def _vm() -> click.Command:
    from solti.provisioning.cli.vm import vm_group

    return vm_group


def _lease() -> click.Command:
    from solti.provisioning.cli.lease import lease_group

    return lease_group


def _audit() -> click.Command:
    from solti.provisioning.cli.audit import audit_command

    return audit_command


def _quota() -> click.Command:
    from solti.provisioning.cli.quota import quota_command

    return quota_command


def _reconcile() -> click.Command:
    from solti.provisioning.cli.reconcile import reconcile_command

    return reconcile_command


def _check() -> click.Command:
    from solti.check_command import check_command

    return check_command


@dataclass(frozen=True)
class Verb:
    """A subcommand: its loader and the one-line help `solti --help` shows without loading."""

    load: Callable[[], click.Command]
    help: str


VERBS: dict[str, Verb] = {
    "audit": Verb(_audit, "Show or export the audit log."),
    "bot": Verb(_bot, "Run the Slack app (Socket Mode or HTTP)."),
    "check": Verb(_check, "Check the configuration and the cluster."),
    "quota": Verb(_quota, "Show a user's VMs, cores, memory and disk against the quotas."),
    "lease": Verb(_lease, "Run the lease sweep (reminders, expiries, removals)."),
    "reconcile": Verb(_reconcile, "Finish or undo interrupted operations; report drift."),
    "sandbox": Verb(
        _sandbox, "Try everything locally: simulated Proxmox, mirror, Slack stand-in, console."
    ),
    "sim": Verb(_sim, "Run a simulator on its own (solti sim pve)."),
    "template": Verb(_template, "Build, list, verify, destroy templates."),
    "vm": Verb(_vm, "Create, list and manage VMs."),
    "snapshot": Verb(_snapshot, "Take, list, roll back and delete VM snapshots."),
}


def _broken(name: str, help_text: str, exc: ImportError) -> click.Command:
    """Stands in for a verb whose module cannot be imported: names the module and the cause."""
    what = f"cannot load {exc.name}" if exc.name else "cannot be loaded"

    @click.command(
        name=name,
        help=f"{help_text} (cannot be loaded: {exc})",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )
    def broken() -> None:
        click.echo(f"solti {name}: {what}: {exc}", err=True)
        sys.exit(1)

    return broken


class LazyGroup(click.Group):
    """Loads a verb's command only when that verb is run (or asked for its help)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Runs the command line with the cyclic garbage collector off during start-up.

        Start-up allocates some 10^5 long-lived objects (modules, classes, pydantic schemas)
        and no garbage cycles worth collecting; the collector's passes over them are ~6 % of
        a `solti vm create`. It is on again once the verb has what it needs: the servers
        (`bot`, `sandbox`, `sim`) turn it on when they load, ``CliApp`` once it has built its
        ``Provisioner`` or audit log, and this method when the command returns (also in
        tests, which call it in-process).
        """
        enabled = gc.isenabled()
        gc.disable()
        try:
            return super().main(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(VERBS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        verb = VERBS.get(cmd_name)
        if verb is None:
            return None
        try:
            return verb.load()
        except ImportError as exc:
            return _broken(cmd_name, verb.help, exc)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help comes from the table, so listing the verbs imports none of them.
        with formatter.section("Commands"):
            formatter.write_dl([(name, VERBS[name].help) for name in self.list_commands(ctx)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="solti-chatops", prog_name="solti")
def main() -> None:
    """Solti ChatOps: provision Proxmox VE VMs from Slack, with an operator CLI."""


if __name__ == "__main__":  # pragma: no cover
    main()
