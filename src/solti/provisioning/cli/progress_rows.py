"""A progress bar per row (a VM of a ``--count`` create, a copy of a template build), drawn
on stderr when it is a terminal; nothing when stderr is a pipe."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from solti.provisioning.cli.context import CliApp

__all__ = ["row_bars"]


@contextlib.contextmanager
def row_bars(app: CliApp, labels: list[str]) -> Iterator[Callable[[int, Any], None] | None]:
    """``update(index, progress)`` (1-based index) moves row ``index``'s bar."""
    if not app.err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bars = Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                    console=app.err, transient=True)  # fmt: skip
    with bars:
        tasks = [bars.add_task(label, total=None) for label in labels]

        def update(index: int, step: Any) -> None:
            detail = f" ({step.detail})" if step.detail else ""
            bars.update(tasks[index - 1], description=f"{labels[index - 1]}: {step.step}{detail}",
                        completed=step.index - 1, total=step.total)  # fmt: skip

        yield update
