"""A simulated cluster as the tests seed it: Solti's templates, and a `solti` run's environment.

``seed_template`` is a template as ``solti template build`` leaves it (name, disk, the tags
Solti finds templates by); ``seed_build`` adds the notes a finished build writes (version,
build date), which rebuilds compare. ``fresh_world`` is the usual start of a test on a shared,
module-scoped simulator: reset, the rocky9 template 9000, and no RRD lag unless asked for.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from solti.provisioning.notes import render_notes
from solti.sandbox.environment import SimEnvironment

TEMPLATE = 9000


def seed_template(
    world: SimEnvironment, vmid: int = TEMPLATE, dist: str = "rocky9", disk: str = "10G"
) -> None:
    """A ``DIST-template`` at ``vmid`` with a ``disk`` disk, tagged as Solti builds it."""
    world.pve.state.add_template(vmid, f"{dist}-template", disk_size=disk,
                                 tags=["solti", "template", dist])  # fmt: skip


def seed_build(world: SimEnvironment, vmid: int, version: str, *, dist: str = "rocky9",
               disk: str = "10G", day: int = 1, node: str = "pve") -> None:  # fmt: skip
    """A finished template build with Solti's notes (distribution, version, build date
    2026-11-``day``)."""
    notes = render_notes({
        "distribution": dist, "version": version,
        "build_date": datetime(2026, 11, day, tzinfo=UTC).isoformat(),
    })  # fmt: skip
    world.pve.state.add_template(vmid, f"{dist}-template", disk_size=disk,
                                 tags=["solti", "template", dist], description=notes,
                                 node=node)  # fmt: skip


def fresh_world(world: SimEnvironment, *, rrd_lag: bool = False) -> SimEnvironment:
    """``world`` reset, with the rocky9 template 9000; ``/cluster/resources`` shows new VMs at
    once unless ``rrd_lag`` keeps the simulator's lag (as a real cluster has)."""
    world.reset()
    if not rrd_lag:
        world.pve.state.rrd_lag = 0
    seed_template(world)
    return world


def solti_env(world: SimEnvironment, tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a `solti` run against ``world`` on its own database in
    ``tmp_path`` (``extra``: more variables, e.g. ``USER``)."""
    return {**world.env, "SOLTI_DB": str(tmp_path / "solti.db"), **extra}
