"""Lists over every cluster (``solti vm list``, ``solti template list``) for the CLI.

With one cluster configured a list is what it always was. With several (policy ``clusters:``)
each row gains a ``cluster`` column; without ``--cluster`` every cluster is asked at once
(``Clusters.each``) and a cluster that does not answer is named in one line under the others'
rows (on stderr with ``--json``, so the document stays a list): one cluster being down never
hides the rest. Only when no cluster answers does the command fail. ``--cluster all`` asks every
cluster as no ``--cluster`` does (``Clusters.span``).

``spanned`` is the same choice for verbs that act rather than list (``reconcile``,
``lease sweep``, ``quota``): the clusters to act on, each one's result or error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from solti.provisioning.cli.context import CliApp, _plain, fail
from solti.provisioning.clusters import (
    ALL_CLUSTERS,
    DEFAULT_CLUSTER,
    ClusterAnswer,
    unanswered_line,
)

__all__ = ["chosen_provisioner", "list_on_clusters", "spanned", "unanswered_line"]


def chosen_provisioner(app: CliApp) -> Any:
    """The one cluster's provisioner (``--cluster all`` with one cluster: ``default``)."""
    if app.cluster == ALL_CLUSTERS:
        return app.clusters.get(DEFAULT_CLUSTER)
    return app.provisioner


def spanned(app: CliApp, work: Callable[[Any], Any]) -> list[ClusterAnswer] | None:
    """``work`` on every cluster the verb covers (``Clusters.span``), at once; None when only
    one cluster is configured (the verb then prints as it always did)."""
    clusters = app.clusters
    if not clusters.many:
        return None
    return clusters.each(work, clusters.span(app.cluster))


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
        items = shape(ask(chosen_provisioner(app)))
        shown = (*columns, *_filled(_plain(items), optional))
        app.emit(items, as_json, columns=shown, title=title)
        return
    answers = clusters.each(ask, clusters.span(app.cluster))
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
