"""The `solti` console script: a thin composition root.

It is the one place that knows all three packages (bot, provisioning, sandbox). Each
subcommand is imported only when it is run, so `solti --help` stays fast and a verb whose
module is missing says so instead of crashing.
"""

from __future__ import annotations

import importlib
import sys

import click

# name -> (module, attribute, one-line help). The attribute is a click command or group.
SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "bot": ("solti.bot.server", "bot_command", "Run the Slack app (Socket Mode or HTTP)."),
    "sandbox": (
        "solti.sandbox.console",
        "sandbox_command",
        "Try everything locally: simulated Proxmox, mirror, Slack stand-in, console.",
    ),
    "sim": ("solti.sandbox.launcher", "sim_group", "Run a simulator on its own (solti sim pve)."),
    "template": (
        "solti.provisioning.cli.template",
        "template_group",
        "Build, list, verify, destroy templates.",
    ),
    "vm": ("solti.provisioning.cli.vm", "vm_group", "Create, list and manage VMs."),
    "audit": ("solti.provisioning.cli.audit", "audit_command", "Show or export the audit log."),
    "check": (
        "solti.check",
        "check_command",
        "Check the configuration and the cluster.",
    ),
}


def _not_built(name: str, help_text: str, reason: str) -> click.Command:
    """A placeholder that explains plainly why the verb cannot run yet."""

    @click.command(
        name=name,
        help=f"{help_text} (not available: {reason})",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    def _placeholder() -> None:
        click.echo(f"solti {name}: not available in this build ({reason}).", err=True)
        sys.exit(2)

    return _placeholder


class LazyGroup(click.Group):
    """Resolves subcommands on demand from SUBCOMMANDS."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SUBCOMMANDS:
            return None
        module_name, attr, help_text = SUBCOMMANDS[cmd_name]
        try:
            module = importlib.import_module(module_name)
            command = getattr(module, attr)
        except (ImportError, AttributeError) as exc:
            if (
                isinstance(exc, ModuleNotFoundError)
                and exc.name
                and not exc.name.startswith(module_name.split(".")[0])
            ):
                reason = f"missing dependency {exc.name!r}; reinstall the package"
            else:
                reason = "not built yet"
            return _not_built(cmd_name, help_text, reason)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help comes from the table so listing does not import every package.
        rows = [(name, SUBCOMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="solti-chatops", prog_name="solti")
def main() -> None:
    """Solti ChatOps: provision Proxmox VE VMs from Slack, with an operator CLI."""


if __name__ == "__main__":  # pragma: no cover
    main()
