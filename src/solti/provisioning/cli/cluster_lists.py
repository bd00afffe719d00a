"""Lists over every cluster (``solti vm list``, ``solti template list``) for the CLI.

With one cluster configured a list is what it always was. With several (policy ``clusters:``)
each row gains a ``cluster`` column; without ``--cluster`` every cluster is asked at once
(``Clusters.each``) and a cluster that does not answer is named in one line under the others'
rows (on stderr with ``--json``, so the document stays a list): one cluster being down never
hides the rest. Only when no cluster answers does the command fail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from solti.provisioning.cli.context import CliApp, _plain, fail

__all__ = ["list_on_clusters", "unanswered_line"]


def unanswered_line(cluster: str, error: BaseException) -> str:
    """``cluster lab did not answer: ...``; the error's own sentence (never a secret), with
    the policy key of this cluster's URL where the client names ``PROXMOX_URL``."""
    text = " ".join(str(error).split()) or type(error).__name__
    if cluster != "default":
        text = text.replace("PROXMOX_URL", f"clusters.{cluster}.url")
    return f"cluster {cluster} did not answer: {text}"


def _filled(rows: list[Any], optional: Sequence[str]) -> list[str]:
    return [c for c in optional if any(isinstance(r, dict) and r.get(c) for r in rows)]


def list_on_clusters(
    app: CliApp,
    ask: Callable[[Any], list[Any]],
    as_json: bool,
    *,
    columns: Sequence[str],
    title: str,
    text_rows: Callable[[list[Any]], list[Any]] | None = None,
    optional: Sequence[str] = (),
) -> None:
    """``ask`` the chosen cluster, or every cluster, and print one table (or JSON list).

    ``text_rows`` shapes one cluster's items for the table only (template copies on one row);
    JSON keeps one entry per item. ``optional`` columns are shown when a row has a value
    (``note``: a VM on an offline node).
    """
    shape = text_rows if text_rows is not None and not as_json else list
    clusters = app.clusters
    if not clusters.many:
        items = shape(ask(app.provisioner))
        shown = (*columns, *_filled(_plain(items), optional))
        app.emit(items, as_json, columns=shown, title=title)
        return
    names = clusters.names if app.spans_clusters else [app.cluster_name]
    answers = clusters.each(ask, names)
    if len(answers) == 1 and answers[0].error is not None:
        raise answers[0].error
    rows = [
        {"cluster": answer.cluster, **_plain(item)}
        for answer in answers
        if answer.error is None
        for item in shape(answer.value)
    ]
    missing = [unanswered_line(a.cluster, a.error) for a in answers if a.error is not None]
    if len(missing) == len(answers):
        fail("; ".join(missing))
    shown = ("cluster", *columns, *_filled(rows, optional))
    app.emit(rows, as_json, columns=shown, title=title)
    for line in missing:
        click.echo(line, err=as_json)
