"""Start-up: the operator verbs import only what they use (figures in docs/performance.md).

Counted, not timed: a fresh interpreter imports a verb's module (or runs `--help`) and the test
reads `sys.modules`. A heavy library that creeps back onto the start-up path fails here, on any
machine, however fast it is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Each is 25-200 ms of start-up and needed by one branch at most.
HEAVY = ("sqlite_utils", "slack_sdk", "slack_bolt", "jsonschema", "pydantic", "requests",
         "proxmoxer", "apscheduler", "rich", "yaml", "prometheus_client")  # fmt: skip

REPORT = "import sys, json; print(json.dumps(sorted(sys.modules)))"


def _modules_after(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{REPORT}"], capture_output=True, text=True, check=True
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def _heavy(loaded: set[str]) -> list[str]:
    return sorted(name for name in HEAVY if name in loaded)


@pytest.mark.parametrize(
    "module",
    [f"solti.provisioning.cli.{verb}" for verb in ("vm", "template", "audit")]
    + ["solti.check_command"],
)
def test_a_verbs_module_imports_no_heavy_library(module: str) -> None:
    loaded = _modules_after(f"import {module}")
    assert _heavy(loaded) == []
    # The domain itself loads when a verb runs, not when its options are read.
    assert "solti.provisioning.service" not in loaded


def test_vm_help_in_a_fresh_interpreter_imports_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['solti', 'vm', '--help']\n"
        "from solti.__main__ import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
    )
    loaded = _modules_after(code)
    assert "solti.provisioning.cli.vm" in loaded  # the help was really built
    assert _heavy(loaded) == []


def test_provisioning_imports_nothing_of_slack() -> None:
    """The check's provisioning half and the whole domain stay free of the Slack SDK."""
    loaded = _modules_after(
        "import solti.provisioning.cli.check, solti.provisioning.service, "
        "solti.provisioning.audit_log"
    )
    assert not {"slack_sdk", "slack_bolt"} & loaded
    assert not any(name.startswith("solti.bot") for name in loaded)


def test_sqlite_utils_loads_only_to_migrate_an_audit_log(tmp_path: Path) -> None:
    """A new file is migrated (sqlite-utils loads); an up-to-date one is only read and written."""
    path = str(tmp_path / "a.db")
    create = (
        "import sys\n"
        "from solti.provisioning.audit_log import AuditLog\n"
        "assert 'sqlite_utils' not in sys.modules\n"
        f"AuditLog({path!r})\n"
    )
    assert "sqlite_utils" in _modules_after(create)
    reuse = (
        "from solti.provisioning.audit_log import AuditLog\n"
        f"log = AuditLog({path!r})\n"
        "record = log.get(log.start('vm create', 'alice', 'cli', vmid=501))\n"
        "log.finish(record.id, 'ok')\n"
        "assert log.owners() == {501: 'alice'}, log.owners()\n"
    )
    assert "sqlite_utils" not in _modules_after(reuse)


# Loaded by a whole `solti vm create` before the start-up work, and no longer: each is
# 10-90 ms of start-up that a create does not use (figures in docs/performance.md).
NOT_ON_THE_CREATE_PATH = (
    "pydantic_settings",  # the environment is read without it unless a file source is named
    "dotenv",
    "asyncio",  # pydantic-settings imported it
    "rich",  # --json output and a piped stderr need no console
    "sqlite_utils",  # the audit file is up to date: no migration
    "solti.provisioning.proxmox_settings",
    "slack_sdk",
    "slack_bolt",
    "jsonschema",
    "apscheduler",
    "waitress",
    "prometheus_client",  # the step timings wait in solti.telemetry.metrics until served
    "solti.provisioning.snapshots",  # loaded by the first snapshot verb
    "solti.provisioning.template_build",  # loaded by the first template verb
    "solti.provisioning.template_copies",
    "solti.provisioning.template_lifecycle",
)


def test_a_whole_create_loads_only_what_it_uses(tmp_path: Path) -> None:
    """A real create, in a fresh interpreter, against the simulator: the modules it loaded."""
    from solti.provisioning.audit_log import AuditLog
    from solti.sandbox.environment import SimEnvironment
    from tests.helpers.keys import new_ssh_key

    db, report = tmp_path / "solti.db", tmp_path / "modules.json"
    AuditLog(db)  # made and migrated, as by the operator's first command
    argv = ["solti", "vm", "create", "rocky9", "--json", "--disk", "32G", "--user", "ops",
            "--ssh-key", new_ssh_key("ops@example"), "--address-wait", "0"]  # fmt: skip
    code = (
        "import atexit, json, pathlib, sys\n"
        f"out = pathlib.Path({str(report)!r})\n"
        "atexit.register(lambda: out.write_text(json.dumps(sorted(sys.modules))))\n"
        f"sys.argv = {argv!r}\n"
        "from solti.cli import main\n"
        "main()\n"
    )
    with SimEnvironment() as world:
        world.pve.state.add_template(9000, "rocky9-template", disk_size="10G",
                                     tags=["solti", "template", "rocky9"])  # fmt: skip
        env = {**os.environ, **world.env, "SOLTI_DB": str(db)}
        for name in ("SOLTI_ENV_FILE", "SOLTI_SECRETS_DIR"):
            env.pop(name, None)
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["vm"]["status"] == "running"
    loaded = set(json.loads(report.read_text()))
    assert "solti.provisioning.vm_create" in loaded and "proxmoxer" in loaded  # it really ran
    assert sorted(name for name in NOT_ON_THE_CREATE_PATH if name in loaded) == []
    assert not any(name.startswith(("solti.bot", "solti.sandbox")) for name in loaded)


SECRET = "0f3c5e1a-5b1f-4c59-8a7e-d2b9a3c4e5f6"
ENVIRONMENTS = [
    {"PROXMOX_URL": "https://pve1:8006/", "PROXMOX_TOKEN_ID": "root@pam!solti",
     "PROXMOX_TOKEN_SECRET": SECRET},
    {"proxmox_url": "https://pve1", "Proxmox_Token_Id": "ops@pve!bot",
     "PROXMOX_TOKEN_SECRET": SECRET, "PROXMOX_VERIFY_SSL": "no", "PROXMOX_CA_BUNDLE": ""},
    {"PROXMOX_URL": "", "proxmox_url": "https://pve2:8443", "PROXMOX_TOKEN_ID": "root@pam!solti",
     "PROXMOX_TOKEN_SECRET": SECRET, "OTHER": "ignored"},
]  # fmt: skip
BAD_ENVIRONMENTS = [
    {},
    {"PROXMOX_URL": "http://pve1", "PROXMOX_TOKEN_ID": "root", "PROXMOX_VERIFY_SSL": "maybe",
     "PROXMOX_TOKEN_SECRET": SECRET},
    {"PROXMOX_URL": "https://pve1", "PROXMOX_TOKEN_ID": "root@pam!solti",
     "PROXMOX_TOKEN_SECRET": SECRET, "SOLTI_ENV_FILE": "/nonexistent/solti.env"},
]  # fmt: skip


@pytest.mark.parametrize("environ", ENVIRONMENTS)
def test_the_clis_settings_are_the_settings_sources_values(environ: dict[str, str]) -> None:
    """`proxmox_from_env` (no pydantic-settings) reads what `ProxmoxSettings.from_env` reads."""
    from solti.provisioning.config import ProxmoxSettings, proxmox_from_env

    fast = proxmox_from_env(environ)
    assert fast.model_dump() == ProxmoxSettings.from_env(environ).model_dump()
    assert fast.token_secret.get_secret_value() == SECRET


@pytest.mark.parametrize("environ", BAD_ENVIRONMENTS)
def test_the_clis_settings_fail_as_the_settings_sources_do(environ: dict[str, str]) -> None:
    """A bad or missing value, or a file source, goes to the settings: the same error."""
    from solti.provisioning.config import ProxmoxSettings, proxmox_from_env
    from solti.provisioning.errors import ConfigError

    with pytest.raises(ConfigError) as expected:
        ProxmoxSettings.from_env(environ)
    with pytest.raises(ConfigError) as got:
        proxmox_from_env(environ)
    assert str(got.value) == str(expected.value)
    assert SECRET not in str(got.value)


def test_a_named_file_source_is_read_through_the_settings(tmp_path: Path) -> None:
    from solti.provisioning import config, settings_sources
    from solti.provisioning.proxmox_settings import ProxmoxSettings

    # One table of names: the CLI's shortcut knows the variables that name a file source.
    assert config.FILE_SOURCE_VARIABLES == (
        settings_sources.ENV_FILE_VARIABLE,
        settings_sources.SECRETS_DIR_VARIABLE,
    )
    assert config.DEFAULT_SECRETS_DIR == settings_sources.DEFAULT_SECRETS_DIR
    (tmp_path / "proxmox_verify_ssl").write_text("false")  # only a secrets file says so
    environ = {**ENVIRONMENTS[0], "SOLTI_SECRETS_DIR": str(tmp_path)}
    settings = config.proxmox_from_env(environ)
    assert isinstance(settings, ProxmoxSettings) and settings.verify_ssl is False


def test_metrics_recorded_before_the_registry_loads_are_all_served() -> None:
    """A command records steps, errors and outcomes without prometheus_client; whatever then
    reads the registry sees every one of them, exactly as if the series had been real."""
    code = (
        "import sys\n"
        "from solti import telemetry\n"
        "with telemetry.track_command('vm create'):\n"
        "    with telemetry.step_timer('vm create', 'clone'):\n"
        "        pass\n"
        "telemetry.PROXMOX_ERRORS.labels(kind='TaskFailed').inc()\n"
        "telemetry.PROXMOX_ERRORS.labels('TaskFailed').inc(2)\n"
        "telemetry.PROVISIONING_STEP.labels(operation='vm create', step='clone').observe(7)\n"
        "assert 'prometheus_client' not in sys.modules\n"
        "body = telemetry.render_metrics()[0].decode()\n"
        "assert 'prometheus_client' in sys.modules\n"
        "telemetry.PROXMOX_ERRORS.labels(kind='TaskFailed').inc()  # now straight through\n"
        "print(body)\n"
        "print(telemetry.REGISTRY.get_sample_value('solti_proxmox_errors_total',"
        " {'kind': 'TaskFailed'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    body = done.stdout
    assert 'solti_commands_total{outcome="ok",verb="vm create"} 1.0' in body
    assert 'solti_proxmox_errors_total{kind="TaskFailed"} 3.0' in body
    assert 'solti_provisioning_step_seconds_count{operation="vm create",step="clone"} 2.0' in body
    # 7 s lands in the 10 s bucket, the quick clone in the first one
    assert (
        'solti_provisioning_step_seconds_bucket{le="0.1",operation="vm create",step="clone"} 1.0'
        in body
    )
    assert (
        'solti_provisioning_step_seconds_bucket{le="10.0",operation="vm create",step="clone"} 2.0'
        in body
    )
    assert body.splitlines()[-1] == "4.0"


def test_a_wrong_metrics_call_fails_where_it_is_made_as_prometheus_client_would() -> None:
    """The stand-ins check what prometheus_client checks, before it is loaded."""
    code = (
        "import sys\n"
        "from solti import telemetry\n"
        "for call in (lambda: telemetry.COMMANDS.labels(verb='vm create'),\n"
        "             lambda: telemetry.PROXMOX_ERRORS.labels('a', 'b'),\n"
        "             lambda: telemetry.PROXMOX_ERRORS.labels('a', kind='b'),\n"
        "             lambda: telemetry.PROXMOX_ERRORS.labels(kind='a').inc(-1)):\n"
        "    try:\n"
        "        call()\n"
        "    except ValueError as exc:\n"
        "        print(exc)\n"
        "assert 'prometheus_client' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [
        "Incorrect label names",
        "Incorrect label count",
        "Can't pass both *args and **kwargs",
        "Counters can only be incremented by non-negative amounts.",
    ]


def test_the_stand_ins_have_the_real_series_label_names() -> None:
    from solti.telemetry import metrics, prometheus_registry

    for name in ("COMMANDS", "PROVISIONING_STEP", "PROXMOX_ERRORS"):
        stand_in, real = getattr(metrics, name), getattr(prometheus_registry, name)
        assert stand_in._labelnames == real._labelnames, name


def test_pending_metrics_are_bounded_in_a_process_that_never_serves() -> None:
    code = (
        "import sys\n"
        "from solti.telemetry import metrics\n"
        "for _ in range(metrics.PENDING_LIMIT):\n"
        "    metrics.PROXMOX_ERRORS.labels(kind='x').inc()\n"
        "assert 'prometheus_client' not in sys.modules\n"
        "metrics.PROXMOX_ERRORS.labels(kind='x').inc()  # one more: the registry loads\n"
        "assert len(metrics._pending) == 0\n"
        "print(metrics.REGISTRY.get_sample_value('solti_proxmox_errors_total', {'kind': 'x'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "10001.0"
