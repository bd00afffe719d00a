"""Start-up benchmark: what each `solti` verb costs before it does anything, and a whole create.

Three figures, each the median of N fresh processes:

1. **Import time of each verb**: `solti <verb> --help` run as `python -X importtime -m solti
   <verb> --help`; the figure is the sum of the top-level imports' cumulative times minus those
   of a bare `python -c pass` (the interpreter's own start-up), i.e. what solti and its
   libraries add. The wall time of the same process is shown beside it.
2. **A whole `solti vm create`** against the PVE simulator (`SimEnvironment`, started here):
   process start to exit, for a linked clone with cloud-init (user, SSH key, DHCP), disk growth
   and start, not waiting for the guest agent's address (`--address-wait 0`).
3. **The floor of the stack**: a process that imports only what any create on the chosen stack
   must (proxmoxer with requests, pydantic with one model validated, sqlite3), run interleaved
   with the creates; with the simulator's task time it bounds the best ratio any create on this
   stack could reach.
4. **The same four steps as an Ansible playbook** of the community.proxmox modules
   (`proxmox_kvm` clone, `proxmox_kvm` cloud-init update, `proxmox_disk` resize,
   `proxmox_kvm` start) against the same simulator, when `ansible-playbook` is found (`--ansible
   PATH`, or on PATH) with the community.proxmox collection and proxmoxer for its Python.

Before measuring, solti's own modules are compiled to bytecode (``compileall``), as ``pip
install`` does for an installed package: in an editable checkout under
``PYTHONDONTWRITEBYTECODE=1`` every process would otherwise compile ~50 modules from source
(~0.1 s), a cost no installed solti has. Each create's CPU time (user + system, the process
and the children it waited for) is reported beside its wall time: on a shared machine wall
time grows with the load, CPU time much less. The create's own imports are measured too
(``-X importtime`` of whole creates, apart from the timed ones): that is what the start-up
goal is about.

With ``--instructions N`` it also runs N creates under valgrind's callgrind and reports the
instructions they executed: deterministic within ~1 %, where wall and CPU time on a shared
2-CPU machine follow the load, so it is the figure to compare one change with the next.

    .venv/bin/python bench/bench_startup.py [--runs N] [--ansible PATH] [--instructions N]
                                            [--no-imports] [--write FILE]

Calls `python -m solti`, so it measures the console script whatever module implements it.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from doc_section import write_section
from startup_report import CREATE_TASKS, GOAL_IMPORT_MS, report

VERBS = ("vm", "template", "audit", "check", "sim", "bot", "sandbox")
_IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \| (\S.*)$")


def _key() -> str:
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return raw.decode() + " bench@example"


def _top_level_import_us(stderr: str) -> int:
    """Sum of the cumulative times of the imports done at top level (not nested in another)."""
    total = 0
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match and not match.group(2).startswith(" "):
            total += int(match.group(1))
    return total


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str, str]:
    """Wall time, CPU time (the process and the children it waited for), stdout, stderr."""
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:6])}... exited {done.returncode}: {done.stderr}")
    return elapsed, _children_cpu() - cpu, done.stdout, done.stderr


def _timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, str, str]:
    elapsed, _, stdout, stderr = _run(command, env)
    return elapsed, stdout, stderr


_COLLECTED = re.compile(r"^==\d+== Collected : (\d+)$", re.M)


def _callgrind(tmp: Path) -> list[str] | None:
    """The prefix running a command under valgrind's callgrind, or None without valgrind.

    Instruction counts are deterministic where wall and CPU time on a shared machine are not:
    the same create counts the same within ~0.1 %, whatever the load."""
    found = shutil.which("valgrind")
    if not found:
        print("valgrind not found: instruction counts are skipped", file=sys.stderr)
        return None
    return [found, "--tool=callgrind", f"--callgrind-out-file={tmp / 'callgrind.out'}"]


def _collected(stderr: str) -> int:
    """The instructions callgrind counted (its ``Collected`` line)."""
    match = _COLLECTED.search(stderr)
    if match is None:
        raise RuntimeError(f"no instruction count from callgrind: {stderr[-500:]}")
    return int(match.group(1))


def compile_sources() -> None:
    """Bytecode for solti's modules, as an installed package has (see the docstring)."""
    import solti

    compileall.compile_dir(str(Path(solti.__file__).parent), quiet=1)


def _bare_import_us(runs: int) -> float:
    """What ``python -X importtime -c pass`` imports (the interpreter's own start-up)."""
    python = sys.executable
    return statistics.median(
        _top_level_import_us(_timed([python, "-X", "importtime", "-c", "pass"])[2])
        for _ in range(runs)
    )


def measure_imports(runs: int) -> list[dict[str, Any]]:
    """Median import time and wall time of `solti <verb> --help` in fresh processes."""
    python = sys.executable
    baseline = _bare_import_us(runs)
    bare_wall = statistics.median(_timed([python, "-c", "pass"])[0] for _ in range(runs))
    rows = []
    for verb in VERBS:
        imports, walls = [], []
        for _ in range(runs):
            _, _, stderr = _timed([python, "-X", "importtime", "-m", "solti", verb, "--help"])
            imports.append((_top_level_import_us(stderr) - baseline) / 1000)
            walls.append(_timed([python, "-m", "solti", verb, "--help"])[0])
        rows.append(
            {
                "verb": verb,
                "import_ms": statistics.median(imports),
                "wall_ms": statistics.median(walls) * 1000,
                "bare_ms": bare_wall * 1000,
            }
        )
    return rows


# The least any create on the chosen stack imports: proxmoxer with its requests backend (the
# HTTPS client), pydantic with one model validated (the first validation pays pydantic's own
# set-up), sqlite3 (the audit log). Nothing of solti, no CLI parser, no YAML, no SSH-key check.
STACK_FLOOR = """\
import sqlite3

import pydantic
from proxmoxer.backends import https  # noqa: F401 - imports requests and urllib3


class Floor(pydantic.BaseModel):
    vmid: int
    name: str = "floor"


Floor.model_validate({"vmid": 100})
"""


def _task_seconds() -> float:
    from solti.sandbox.pve.faults import DEFAULT_TASK_DURATIONS

    return sum(DEFAULT_TASK_DURATIONS[task] for task in CREATE_TASKS)


def _floor(runs: list[float], cpus: list[float]) -> Callable[[], None]:
    """A function running the stack's floor once, appending its wall and CPU time."""

    def run() -> None:
        elapsed, cpu, _, _ = _run([sys.executable, "-c", STACK_FLOOR])
        runs.append(elapsed)
        cpus.append(cpu)

    return run


PLAYBOOK = """\
- hosts: localhost
  connection: local
  gather_facts: false
  module_defaults:
    group/community.proxmox.proxmox:
      api_host: "{{ api_host }}"
      api_port: "{{ api_port }}"
      api_user: root@pam
      api_token_id: "{{ token_name }}"
      api_token_secret: "{{ token_secret }}"
      validate_certs: false
  tasks:
    - name: clone the template (linked)
      community.proxmox.proxmox_kvm:
        node: "{{ node }}"
        vmid: "{{ template_vmid }}"
        clone: "{{ template_name }}"
        newid: "{{ newid }}"
        name: "{{ vm_name }}"
        full: false
        timeout: 120
    - name: cloud-init user, key, DHCP
      community.proxmox.proxmox_kvm:
        node: "{{ node }}"
        vmid: "{{ newid }}"
        ciuser: bench
        sshkeys: "{{ ssh_key }}"
        ipconfig:
          ipconfig0: ip=dhcp
        update: true
    - name: grow the boot disk
      community.proxmox.proxmox_disk:
        vmid: "{{ newid }}"
        disk: "{{ disk }}"
        size: 32G
        state: resized
    - name: start
      community.proxmox.proxmox_kvm:
        node: "{{ node }}"
        vmid: "{{ newid }}"
        state: started
        timeout: 120
"""


def _ansible_ready(playbook_bin: str | None) -> str | None:
    """The ansible-playbook to use, or None (with the reason printed) when there is none."""
    found = playbook_bin or shutil.which("ansible-playbook")
    if not found or not Path(found).exists():
        print("ansible-playbook not found: the playbook comparison is skipped", file=sys.stderr)
        return None
    return found


def measure_creates(runs: int, ansible: str | None, instructions_runs: int = 0) -> dict[str, Any]:
    """Whole-process wall time of `solti vm create` (and of the playbook) on one simulator."""
    from solti.provisioning.config import ProxmoxSettings, load_policy
    from solti.provisioning.service import Provisioner
    from solti.sandbox.environment import SimEnvironment

    result: dict[str, Any] = {"runs": runs}
    with SimEnvironment() as world, tempfile.TemporaryDirectory() as tmp:
        setup = Provisioner.from_settings(
            ProxmoxSettings.from_env(world.env), load_policy(world.config_path), Path(tmp, "a.db")
        )
        template = setup.build_template({"distribution": "rocky9"}).template
        env = {**os.environ, **world.env, "SOLTI_DB": str(Path(tmp, "cli.db"))}
        key = _key()
        playbook = _playbook(ansible, world, template, key, Path(tmp)) if ansible else None
        solti, solti_cpu, played, played_cpu, imports = [], [], [], [], []
        floor_runs: list[float] = []
        floor_cpu: list[float] = []
        floor = _floor(floor_runs, floor_cpu)
        instructions = _callgrind(Path(tmp)) if instructions_runs else None

        def create(
            name: str, *python_options: str, prefix: list[str] | None = None
        ) -> tuple[float, float, str]:
            command = [*(prefix or []), sys.executable, *python_options, "-m", "solti", "vm",
                       "create", template.name, "--json", "--name", name, "--disk", "32G", "--user",
                       "bench", "--ssh-key", key, "--address-wait", "0"]  # fmt: skip
            elapsed, cpu, stdout, stderr = _run(command, env)
            json.loads(stdout)  # a real result, not an error line
            return elapsed, cpu, stderr

        # Interleaved, so a busy spell on a shared machine slows both tools alike.
        for run in range(runs):
            elapsed, cpu, _ = create(f"solti{run}")
            solti.append(elapsed)
            solti_cpu.append(cpu)
            floor()
            if playbook:
                elapsed, cpu = playbook(run)
                played.append(elapsed)
                played_cpu.append(cpu)
        bare = _bare_import_us(runs)
        for run in range(runs):  # what a create imports, apart from the timed runs
            stderr = create(f"imports{run}", "-X", "importtime")[2]
            imports.append((_top_level_import_us(stderr) - bare) / 1000)
        if instructions:
            result["instructions"] = [
                _collected(create(f"valgrind{run}", prefix=instructions)[2])
                for run in range(instructions_runs)
            ]
        result["solti_s"] = statistics.median(solti)
        result["solti_runs"] = solti
        result["solti_cpu_s"] = statistics.median(solti_cpu)
        result["create_import_ms"] = statistics.median(imports)
        result["floor_s"] = statistics.median(floor_runs)
        result["floor_cpu_s"] = statistics.median(floor_cpu)
        result["task_s"] = _task_seconds()
        if played:
            result["ansible_s"] = statistics.median(played)
            result["ansible_runs"] = played
            result["ansible_cpu_s"] = statistics.median(played_cpu)
            result["ratios"] = sorted(a / b for a, b in zip(played, solti, strict=True))
    return result


def _playbook(
    ansible: str, world: Any, template: Any, key: str, tmp: Path
) -> Callable[[int], tuple[float, float]]:
    """A function running the playbook once (for VM `700 + run`): its wall and CPU time."""
    import requests

    pve = world.pve
    # The disk the template boots from, as the playbook must name it.
    config = requests.get(
        f"{pve.url}/api2/json/nodes/{template.node}/qemu/{template.vmid}/config",
        headers={"Authorization": f"PVEAPIToken={pve.token_id}={pve.token_secret}"},
        verify=pve.ca_path,
        timeout=10,
    ).json()["data"]
    disk = next(slot for slot in ("scsi0", "virtio0", "sata0") if slot in config)
    playbook = tmp / "create.yml"
    playbook.write_text(PLAYBOOK)
    python = Path(ansible).parent / "python"
    env = {
        **os.environ,
        "ANSIBLE_PYTHON_INTERPRETER": str(python if python.exists() else sys.executable),
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_HOME": str(tmp / "ansible-home"),
    }

    def play(run: int) -> tuple[float, float]:
        extra = {
            "api_host": pve.host,
            "api_port": pve.port,
            "token_name": pve.token_id.split("!", 1)[1],
            "token_secret": pve.token_secret,
            "node": template.node,
            "template_vmid": template.vmid,
            "template_name": template.name,
            "newid": 700 + run,
            "vm_name": f"ansible{run}",
            "ssh_key": key,
            "disk": disk,
        }
        elapsed, cpu, _, _ = _run([ansible, str(playbook), "-e", json.dumps(extra)], env)
        return elapsed, cpu

    return play


def write(path: Path, section: str) -> None:
    write_section(path, "bench_startup", section)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ansible", help="ansible-playbook to compare with (default: on PATH)")
    parser.add_argument("--no-create", action="store_true", help="Only the import times.")
    parser.add_argument(
        "--instructions",
        type=int,
        default=0,
        metavar="N",
        help="Also count a create's instructions under valgrind, N times (~1 min each).",
    )
    parser.add_argument("--no-imports", action="store_true", help="Skip the verbs' imports.")
    parser.add_argument("--write", type=Path, help="Update the start-up section of a file.")
    args = parser.parse_args(argv)
    compile_sources()
    imports = [] if args.no_imports else measure_imports(args.runs)
    creates = None
    if not args.no_create:
        creates = measure_creates(args.runs, _ansible_ready(args.ansible), args.instructions)
    section = report(imports, creates, args.runs)
    print(section)
    if args.write:
        write(args.write, section)
    vm = next((row for row in imports if row["verb"] == "vm"), None)
    return 0 if vm is None or vm["import_ms"] < GOAL_IMPORT_MS else 1


if __name__ == "__main__":
    sys.exit(main())
