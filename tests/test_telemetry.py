"""Structured logs carry the request id and never a secret; metrics render for Prometheus."""

from __future__ import annotations

import importlib.metadata
import io
import json
import logging
import platform
import subprocess
import sys
from collections.abc import Iterator
from wsgiref.util import setup_testing_defaults

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from solti import telemetry
from solti.bot import slack_metrics

BOT_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
APP_TOKEN = "xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PVE_SECRET = "0e1f2a3b-4c5d-6e7f-8091-a2b3c4d5e6f7"
UNSHAPED_SECRET = "correct horse battery staple"

ALL_SECRETS = (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, PVE_SECRET, UNSHAPED_SECRET)

# Each message hides at least one secret in a different way.
LEAKY_MESSAGES = (
    f"posting with token {BOT_TOKEN}",
    f"headers={{'Authorization': 'Bearer {BOT_TOKEN}'}}",
    f"Authorization: PVEAPIToken=root@pam!solti={PVE_SECRET}",
    f"Authorization: PVEAPIToken root@pam!solti={PVE_SECRET}",
    f"socket mode with {APP_TOKEN}",
    f"verifying with signing secret {SIGNING_SECRET}",
    f"form body token_secret={PVE_SECRET}&user=root",
    f"the operator typed {UNSHAPED_SECRET} somewhere",
)


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """A stream behind the real root handler, removed again afterwards."""
    buffer = io.StringIO()
    yield buffer
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "solti":
            root.removeHandler(handler)


def _configure(fmt: str, stream: io.StringIO) -> None:
    telemetry.configure_logging(
        fmt,  # type: ignore[arg-type]
        "DEBUG",
        stream=stream,
        environ={"SLACK_SIGNING_SECRET": SIGNING_SECRET, "PROXMOX_TOKEN_SECRET": PVE_SECRET},
        secrets=[UNSHAPED_SECRET],
    )


def _assert_clean(output: str) -> None:
    assert output.strip(), "nothing was logged"
    for secret in ALL_SECRETS:
        assert secret not in output
    assert telemetry.REDACTED in output


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_secret_in_any_line(fmt: str, stream: io.StringIO) -> None:
    _configure(fmt, stream)
    log = logging.getLogger("solti.test")
    for message in LEAKY_MESSAGES:
        log.info(message)
    # Secrets passed as %-args, as extras and inside an exception's traceback.
    log.warning("auth.test with %s", BOT_TOKEN, extra={"headers": {"Authorization": BOT_TOKEN}})
    try:
        raise RuntimeError(f"connect failed for PVEAPIToken=root@pam!solti={PVE_SECRET}")
    except RuntimeError:
        log.exception("proxmox call failed")
    output = stream.getvalue()
    _assert_clean(output)
    assert len(output.strip().splitlines()) >= len(LEAKY_MESSAGES) + 2
    # Who used the token stays visible; only the secret goes.
    assert "root@pam!solti" in output


def test_json_lines_have_fields_and_request_id(stream: io.StringIO) -> None:
    _configure("json", stream)
    log = logging.getLogger("solti.bot")
    with telemetry.log_context(request_id="req-42"):
        log.info("vm create by %s", "U123", extra={"vmid": 501})
        with telemetry.log_context(step="clone"):
            log.info("cloning")
    log.info("outside")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["msg"] for line in lines] == ["vm create by U123", "cloning", "outside"]
    first = lines[0]
    assert set(first) >= {"ts", "level", "logger", "msg", "request_id"}
    assert first["ts"].endswith("Z")
    assert first["level"] == "INFO"
    assert first["logger"] == "solti.bot"
    assert first["request_id"] == "req-42"
    assert first["vmid"] == 501
    assert lines[1]["request_id"] == "req-42"
    assert lines[1]["step"] == "clone"
    assert lines[2]["request_id"] is None


def test_text_lines_show_request_id(stream: io.StringIO) -> None:
    _configure("text", stream)
    with telemetry.log_context(request_id="abc123"):
        logging.getLogger("solti.cli").info("listing vms")
    line = stream.getvalue().strip()
    assert "[abc123]" in line
    assert line.endswith("listing vms")


def test_environment_chooses_json(stream: io.StringIO) -> None:
    telemetry.configure_logging(stream=stream, environ={"SOLTI_LOG_FORMAT": "json"})
    logging.getLogger("solti").info("hello")
    assert json.loads(stream.getvalue())["msg"] == "hello"


def test_bad_format_names_the_variable() -> None:
    with pytest.raises(ValueError, match="SOLTI_LOG_FORMAT"):
        telemetry.configure_logging(environ={"SOLTI_LOG_FORMAT": "xml"})
    with pytest.raises(ValueError, match="SOLTI_LOG_LEVEL"):
        telemetry.configure_logging(environ={"SOLTI_LOG_LEVEL": "LOUD"})


def test_redact_keeps_ordinary_text() -> None:
    text = "created VM 501 (rocky9-260101) on pve from template 9000"
    assert telemetry.redact(text) == text


def test_metrics_render_all_families() -> None:
    with telemetry.track_command("vm create"):
        pass
    with pytest.raises(RuntimeError), telemetry.track_command("vm remove"):
        raise RuntimeError("boom")
    with telemetry.step_timer("vm create", "clone"):
        pass
    slack_metrics.ACK_LATENCY.observe(0.2)
    telemetry.PROXMOX_ERRORS.labels(kind="TaskFailed").inc()
    slack_metrics.APPROVALS_WAITING.set(3)

    body, content_type = telemetry.render_metrics()
    text = body.decode()
    assert content_type.startswith("text/plain")
    assert 'solti_commands_total{outcome="ok",verb="vm create"}' in text
    assert 'solti_commands_total{outcome="failed",verb="vm remove"}' in text
    assert "solti_ack_latency_seconds_bucket" in text
    assert 'solti_provisioning_step_seconds_count{operation="vm create",step="clone"}' in text
    assert 'solti_proxmox_errors_total{kind="TaskFailed"}' in text
    assert "solti_approvals_waiting 3.0" in text


def _scrape() -> tuple[str, str]:
    """GET /metrics from the WSGI app, as Prometheus would: (status, body)."""
    environ: dict[str, object] = {"PATH_INFO": "/metrics", "REQUEST_METHOD": "GET"}
    setup_testing_defaults(environ)
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = status

    body = b"".join(telemetry.metrics_wsgi_app()(environ, start_response))
    return seen["status"], body.decode()


def test_metrics_wsgi_app_serves_text() -> None:
    slack_metrics.APPROVALS_WAITING.set(1)
    status, body = _scrape()
    assert status.startswith("200")
    assert "solti_approvals_waiting 1.0" in body


def test_metrics_carry_the_standard_process_and_python_series() -> None:
    """What operators expect of any Python service: process, GC and interpreter series."""
    _, body = _scrape()
    samples = {line.split("{")[0].split(" ")[0] for line in body.splitlines() if line[:1] != "#"}
    # Linux has /proc, so the process collector reports memory, CPU and file descriptors.
    assert {"process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds"} <= (
        samples
    )
    assert "python_gc_objects_collected_total" in samples
    version = platform.python_version_tuple()
    assert (
        f'python_info{{implementation="CPython",major="{version[0]}",minor="{version[1]}"' in body
    )


def test_metrics_carry_the_build_info() -> None:
    _, body = _scrape()
    try:
        expected = importlib.metadata.version(telemetry.metrics.DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:  # a plain checkout, not installed
        expected = "unknown"
    assert f'solti_build_info{{version="{expected}"}} 1.0' in body


def test_build_info_says_unknown_for_a_distribution_not_installed() -> None:
    registry = CollectorRegistry()
    registry.register(telemetry.metrics.BuildInfo("no-such-distribution-solti"))
    assert 'solti_build_info{version="unknown"} 1.0' in generate_latest(registry).decode()


def test_telemetry_imports_nothing_else_of_solti() -> None:
    """Every part may use telemetry because telemetry depends on no part (no cycle possible)."""
    code = "import sys, solti.telemetry; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    ours = {name for name in loaded if name == "solti" or name.startswith("solti.")}
    assert ours == {"solti", "solti.telemetry"} | {
        f"solti.telemetry.{part}" for part in ("logs", "metrics", "redaction")
    }
