"""Kill (SIGKILL) `solti template build` inside each of its steps, and `solti vm create` inside
its `plan` step, then `solti reconcile --yes` (issue 12, point 5): no half-built VM is left, a
finished template is never removed, no record stays `running`, and a downloaded image stays in
the import storage (the next build reuses it).

Each step is stretched in the simulator (a task duration, a request's latency, or for the
`checksum` step a checksum server that never answers) so the kill lands inside it; the record's
`step` column says where the process was when it died.
"""

# ruff: noqa: F811  (the fixture world is imported and used by name)
from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest
import yaml

from solti.provisioning.pve import PveClient
from solti.sandbox.environment import SimEnvironment
from tests.helpers.keys import new_ssh_key
from tests.recovery.kill import (  # noqa: F401  (the fixture world)
    audit_rows,
    cli_env,
    kill_when,
    running_step,
    solti,
    start,
    world,
)

LONG = 30.0  # a step that must still run when reconcile looks (it is never waited out)
SHORT = 3.0  # a step whose task reconcile waits out (its VM is locked until it ends)
TEMPLATE = 9000


class SilentServer:
    """A TCP server that accepts and never answers: an upstream checksum file that hangs."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/CHECKSUM"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.fixture
def env(world: SimEnvironment, tmp_path: Path) -> dict[str, str]:
    return cli_env(world, tmp_path)


def _images(world: SimEnvironment) -> list[str]:
    client = PveClient.connect(world.pve.url, world.pve.token_id, world.pve.token_secret,
                               verify=str(world.pve.ca_path))  # fmt: skip
    return sorted(str(c["volid"]) for c in client.storage_content("pve", "local", "import"))


def _reconcile_clean(env: dict[str, str]) -> dict[str, object]:
    done = solti(env, "reconcile", "--yes", "--json", timeout=180)
    assert done.stdout, done.stderr
    report = json.loads(done.stdout)
    again = solti(env, "reconcile", "--json", timeout=180)
    assert json.loads(again.stdout)["findings"] == [], again.stdout
    assert all(result != "running" for result, _, _ in audit_rows(env["SOLTI_DB"]))
    return {"report": report, "code": done.returncode}


# --- vm create: the plan step ------------------------------------------------------------------


def test_kill_inside_the_create_plan_step_leaves_nothing(
    env: dict[str, str], world: SimEnvironment
) -> None:
    """The plan reads the cluster and the template; killed there, nothing was made and no
    record was started (the `running` record is written when the plan is complete)."""
    world.pve.state.add_template(TEMPLATE, "rocky9-template", disk_size="10G",
                                 tags=["solti", "template", "rocky9"])  # fmt: skip
    world.pve.faults.latency(LONG, method="GET", path=f"/nodes/*/qemu/{TEMPLATE}/config")
    create = start(env, "vm", "create", "rocky9", "--ssh-key", new_ssh_key("ops@example"))

    def planning() -> bool:  # the snapshot is read; the template's config is on its way
        return any(r.path == "/cluster/resources" for r in world.pve.requests)

    kill_when(create, planning, "the plan step", polls=1200)
    assert audit_rows(env["SOLTI_DB"]) == []
    world.pve.faults.clear()
    outcome = _reconcile_clean(env)
    assert outcome["report"] == {"needs_person": False, "findings": []}
    assert outcome["code"] == 0
    assert sorted(world.pve.state.guests) == [TEMPLATE]
    assert not [r for r in world.pve.requests if r.method != "GET"]  # nothing was changed


# --- template build: every step ----------------------------------------------------------------


def _stretch(world: SimEnvironment, env: dict[str, str], step: str, tmp: Path) -> list[str]:
    """Make ``step`` last; the extra arguments of `solti template build` it needs."""
    faults = world.pve.faults
    if step == "checksum":
        silent = SilentServer()
        env["_silent"] = silent  # type: ignore[assignment]  # closed by the test
        policy = yaml.safe_load(Path(env["SOLTI_CONFIG"]).read_text())
        policy["distributions"]["rocky9"]["checksum_url"] = silent.url
        path = tmp / "policy.yaml"
        path.write_text(yaml.safe_dump(policy))
        env["SOLTI_CONFIG"] = str(path)
    elif step == "download":
        faults.task_duration("download", SHORT)
    elif step == "vmid":
        faults.latency(LONG, method="GET", path="/cluster/resources")
    elif step == "create":
        faults.task_duration("qmcreate", SHORT)
    elif step == "resize":
        faults.task_duration("resize", LONG)
        return ["--disk", "20G"]  # the 10G image is grown
    elif step == "notes":
        faults.latency(SHORT, method="PUT", path="/nodes/*/qemu/*/config")
    elif step == "convert":
        faults.task_duration("qmtemplate", SHORT)
    elif step == "verify":  # the resize step reads the config too, SHORT is waited out there
        faults.latency(SHORT, method="GET", path="/nodes/*/qemu/*/config")
    return []


STEPS = ["checksum", "download", "vmid", "create", "resize", "notes", "convert", "verify"]


@pytest.mark.parametrize("step", STEPS)
def test_kill_inside_a_build_step_then_reconcile(
    env: dict[str, str], world: SimEnvironment, tmp_path: Path, step: str
) -> None:
    extra = _stretch(world, env, step, tmp_path)
    silent = env.pop("_silent", None)
    build = start(env, "template", "build", "rocky9", *extra)
    try:
        kill_when(build, lambda: running_step(env["SOLTI_DB"]) == step, f"step {step}", polls=1200)
    finally:
        if silent is not None:
            silent.close()  # type: ignore[attr-defined]
    assert running_step(env["SOLTI_DB"]) == step  # the record still says where it was
    world.pve.faults.clear()
    outcome = _reconcile_clean(env)
    (finding,) = [f for f in outcome["report"]["findings"] if f["kind"] == "interrupted"]  # type: ignore[index]
    assert finding["step"] == step and finding["action"] == "template build"
    (row,) = audit_rows(env["SOLTI_DB"])
    assert row[0] == "failed" and f"interrupted at step {step}" in (row[2] or "")
    guests = world.pve.state.guests
    if step in ("convert", "verify"):
        # The conversion had been asked for: PVE finishes it, and a template is never removed.
        assert (
            finding["plan"] == f"interrupted at step {step}; template 9000 was finished and is kept"
        )
        assert sorted(guests) == [TEMPLATE] and guests[TEMPLATE].conf.get("template") == "1"
        assert outcome["code"] == 1  # a person looks at (verifies) the kept template
    elif step in ("checksum", "download", "vmid"):
        assert finding["plan"] == f"interrupted at step {step}; no VM was made"
        assert sorted(guests) == [] and outcome["code"] == 0
    else:
        assert finding["plan"] == f"interrupted at step {step}; half-built VM 9000 removed"
        assert sorted(guests) == [] and outcome["code"] == 0
    if step == "checksum":
        assert _images(world) == []  # never downloaded
        return
    # The download (finished, or still running in PVE when the builder died) is kept.
    deadline = time.monotonic() + 20
    while not _images(world):
        assert time.monotonic() < deadline, "the downloaded image is gone"
        time.sleep(0.2)
    (image,) = _images(world)
    assert image.startswith("local:import/Rocky-9-GenericCloud-Base")
    # and the next build reuses it: no second download
    again = solti(env, "template", "build", "rocky9", "--json", timeout=180)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["downloaded"] is False
