"""The CLI application object: settings, a lazily built ``Provisioner``, output and failure.

Verbs only read it. ``emit`` prints one JSON document with ``--json`` or a rich table
otherwise; ``fail`` prints ONE line on stderr and exits non-zero; ``confirm`` asks on a terminal
and refuses (rather than hangs) without one unless ``--yes`` was given. ``GuardedGroup`` and
``guarded`` turn every escaped error into such a line, so no traceback reaches an operator.

rich and pydantic are imported where they are used, not at the top: ``solti vm --help`` loads
this module and needs neither (start-up figures in docs/performance.md).

Environment: ``PROXMOX_*`` (see docs/configuration.md), ``SOLTI_CONFIG`` (policy file, optional)
and ``SOLTI_DB`` (the audit SQLite file, default ``./solti.db``). The actor of CLI audit records
is the local user name.

Clusters (policy ``clusters:``): every verb of a ``GuardedGroup`` gets ``--cluster NAME``
(``cluster_option``; ``SOLTI_CLUSTER`` when absent, else ``default``, the ``PROXMOX_*`` one), and
``app.provisioner`` is that cluster's, from the ``Clusters`` registry (``app.clusters``).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from solti.provisioning.errors import SoltiError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "CliApp", "GuardedGroup", "cluster_option", "guarded", "json_option", "pass_app",
    "yes_option",
]  # fmt: skip

DEFAULT_DB = "solti.db"
# Longer tables are printed as plain padded columns (rich lays 5,000 rows out in seconds).
PLAIN_TABLE_ROWS = 500
F = TypeVar("F", bound=Callable[..., Any])


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def fail(message: str, code: int = 1) -> None:
    """One line on stderr, then exit with ``code``."""
    click.echo(f"Error: {_one_line(message)}", err=True)
    sys.exit(code)


class CliApp:
    """Shared by the verbs of one ``solti`` run; everything is built on first use."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self._audit: Any = None
        self._clusters: Any = None
        # --cluster (set by ``cluster_option``), else SOLTI_CLUSTER; None: not chosen (default)
        self.cluster: str | None = self.environ.get("SOLTI_CLUSTER") or None

    # The consoles load rich on first use: `--json` output and a piped stderr never need it.
    @functools.cached_property
    def out(self) -> Console:
        from rich.console import Console

        # Piped output keeps whole cells (rich would cut them to 80 columns).
        return Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)

    @functools.cached_property
    def err(self) -> Console:
        from rich.console import Console

        return Console(stderr=True)

    @property
    def err_is_terminal(self) -> bool:
        """rich's ``err.is_terminal``, without loading rich when stderr is plainly no terminal."""
        if "err" not in self.__dict__ and not _may_be_terminal(sys.stderr):
            return False
        return self.err.is_terminal

    @property
    def actor(self) -> str:
        try:
            return getpass.getuser()
        except (KeyError, OSError):
            return "unknown"

    @property
    def db_path(self) -> Path:
        from solti.provisioning.config import check_database_path

        return check_database_path(self.environ.get("SOLTI_DB") or DEFAULT_DB)

    @property
    def clusters(self) -> Any:
        """The ``Clusters`` registry (``default`` from ``PROXMOX_*``, then the policy's)."""
        if self._clusters is None:
            from solti.provisioning.clusters import Clusters, secret_variables
            from solti.provisioning.config import proxmox_from_env

            self._clusters = Clusters.from_settings(
                lambda: proxmox_from_env(self.environ),
                self.policy,
                self.db_path,
                lambda: secret_variables(self.environ),  # a cluster's secret may be in a file
                audit=self.audit,
            )
        return self._clusters

    @functools.cached_property
    def policy(self) -> Any:
        """The policy file (``SOLTI_CONFIG``), read once per run; no file: the defaults."""
        from solti.provisioning.config import load_policy

        return load_policy(self.environ.get("SOLTI_CONFIG") or None)

    def authorize(self, verb: str, vmid: int | None = None) -> None:
        """May this login run ``verb`` (on VM ``vmid``)? Every verb asks first, through the
        one function the bot asks too (``authorization_rules.authorize``, with the CLI's
        judge: policy ``cli.operators``). Refused: an audit record ``denied`` with the
        sentence, then that sentence on stderr and exit 1; nothing else happens.

        The policy and the VM's owner are read only when the verb's answer depends on them
        (``solti audit`` needs neither), and an operator's owner is never looked up.
        """
        from solti.provisioning.authorization_rules import VERBS, Actor, CliJudge, authorize

        need = VERBS.get(verb)
        asks_who = need is not None and (need.owner or need.operator)
        operators = self.policy.cli.operators if asks_who else None
        judge = CliJudge(None if operators is None else frozenset(operators))
        actor = Actor(self.actor)
        owner = None
        if asks_who and vmid is not None and not judge.is_operator(actor):
            owner = self.audit.scoped(self.cluster_name).owners().get(vmid)
        decision = authorize(verb, actor, None, judge, owner=owner)
        if decision:
            return
        self.audit.scoped(self.cluster_name).record(
            verb, actor.user, "cli", "denied", error=decision.reason, vmid=vmid,
            params={"owner": owner} if owner else {},
        )  # fmt: skip
        target = f" {vmid}" if vmid is not None else ""
        fail(f"solti {verb}{target}: {decision.reason}")

    @property
    def cluster_name(self) -> str:
        """The cluster a verb acts on: ``--cluster``, ``SOLTI_CLUSTER``, else ``default``."""
        return self.clusters.resolve(self.cluster)

    @property
    def spans_clusters(self) -> bool:
        """A list asks every cluster: several are configured and none was chosen."""
        return self.cluster is None and self.clusters.many

    @property
    def provisioner(self) -> Any:
        provisioner = self.clusters.get(self.cluster_name)
        gc.enable()  # off during start-up (solti.cli.LazyGroup.main): the imports are done
        return provisioner

    @property
    def audit(self) -> Any:
        """The audit log alone (``solti audit`` needs no Proxmox settings)."""
        if self._audit is None:
            from solti.provisioning.audit_log import AuditLog

            self._audit = AuditLog(self.db_path)
            gc.enable()  # as for the provisioner
        return self._audit

    # --- output -------------------------------------------------------------------------------

    def emit(
        self,
        data: Any,
        as_json: bool,
        *,
        columns: Sequence[str] = (),
        title: str | None = None,
        text: str | None = None,
    ) -> None:
        """One JSON document, or a table of ``columns`` (rows: models or dicts), or a line."""
        plain = _plain(data)
        if as_json:
            click.echo(json.dumps(plain, indent=2, default=str))
            return
        if text is not None:
            self.out.print(text)
            return
        rows = plain if isinstance(plain, list) else [plain]
        if len(rows) > PLAIN_TABLE_ROWS:
            click.echo(_plain_table(rows, columns, title))
            return
        from rich.table import Table

        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*[_cell(row.get(c)) for c in columns])
        self.out.print(table)

    def confirm(self, question: str, yes: bool) -> None:
        """Ask on a terminal; without one, refuse unless ``--yes`` was given."""
        if yes:
            return
        if not sys.stdin.isatty():
            fail(f"{question.rstrip('?')}: refusing without --yes (no terminal to confirm on)")
        if not click.confirm(question, default=False, err=True):
            fail("cancelled")

    @contextlib.contextmanager
    def progress(self, what: str) -> Iterator[Callable[[Any], None]]:
        """A progress callback drawing a bar on stderr (silent when stderr is not a terminal)."""
        if not self.err_is_terminal:
            yield lambda _p: None
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        )
        with bar:
            task = bar.add_task(what, total=None)

            def update(p: Any) -> None:
                detail = f" ({p.detail})" if p.detail else ""
                bar.update(task, description=f"{what}: {p.step}{detail}", completed=p.index - 1,
                           total=p.total)  # fmt: skip

            yield update


def _may_be_terminal(stream: Any) -> bool:
    """False only where rich's ``Console.is_terminal`` is False too: no variable that rich
    reads to force it (``TTY_COMPATIBLE``, ``FORCE_COLOR``) and a stream that is not a tty."""
    if "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ:
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream: rich says False too
        return False


def _plain(data: Any) -> Any:
    from pydantic import BaseModel  # loaded already by whatever made a model

    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, list):
        return [_plain(d) for d in data]
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    return data


def _plain_table(rows: list[dict[str, Any]], columns: Sequence[str], title: str | None) -> str:
    """Columns padded to their widest cell, for lists too long for rich: laying out a 5,000-row
    rich table took seconds (``bench/bench_list.py``), this takes milliseconds."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    head = [title] if title else []
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([*head, line(columns), rule, *(line(r) for r in cells)])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _guard(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except SystemExit:
        raise
    except SoltiError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except Exception as exc:  # the last line of defence: one line, never a traceback
        fail(f"unexpected {type(exc).__name__}: {exc}")
    return None


class GuardedGroup(click.Group):
    """A group whose verbs fail with one stderr line instead of a traceback, and each take
    ``--cluster NAME`` (added here, so a new verb cannot forget it)."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not isinstance(cmd, click.Group) and not any(p.name == "cluster" for p in cmd.params):
            cmd.params.append(_cluster_parameter())
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        return _guard(lambda: super(GuardedGroup, self).invoke(ctx))


def guarded(func: F) -> F:
    """The same guard for a stand-alone command (``solti audit``)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _guard(lambda: func(*args, **kwargs))

    return wrapper  # type: ignore[return-value]


pass_app = click.make_pass_decorator(CliApp, ensure=True)


def _choose_cluster(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(CliApp).cluster = value


def cluster_option(func: F) -> F:
    """``--cluster NAME`` for a stand-alone command (``GuardedGroup`` adds it to its verbs)."""
    return click.option("--cluster", **_CLUSTER_OPTION)(func)  # type: ignore[return-value]


_CLUSTER_OPTION: dict[str, Any] = {
    "metavar": "NAME",
    "expose_value": False,
    "callback": _choose_cluster,
    "help": "The cluster to act on (policy `clusters:`; default: SOLTI_CLUSTER, else default).",
}


def _cluster_parameter() -> click.Option:
    return click.Option(["--cluster"], **_CLUSTER_OPTION)


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
