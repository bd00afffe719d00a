"""End-to-end harness: simulated Proxmox + mirror, the Slack stand-in, the real bot over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from solti.bot.runtime import Runtime
from solti.bot.settings import load_settings
from solti.composition import Bot, HttpService, build_bot, build_provisioner
from solti.provisioning import AuditLog, ProxmoxSettings, load_policy
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn, SlackUser

SIGNING_SECRET = "test-signing-secret"
ALICE, BOB, APPROVER, ADMIN = "U0ALICE", "U0BOB", "U0APPROVER", "U0ADMIN"
INFRA, APPROVALS, REPORTS = "C0INFRA", "C0APPROVALS", "C0REPORTS"


def new_key(comment: str = "alice@laptop") -> str:
    public = Ed25519PrivateKey.generate().public_key()
    line = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{line.decode()} {comment}"


KEY = new_key()
POLICY = {
    "approvers": [APPROVER, ADMIN],
    "admins": [ADMIN],
    "approvals_channel": APPROVALS,
    "quotas": {"max_vms_per_user": 5},
    "approvals": {"expire_after": "2h"},
    "reports": {"channel": REPORTS, "cron": "0 9 * * 1"},
}


class Clock:
    """A settable clock for approval expiry."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Harness:
    env: SimEnvironment
    standin: SlackStandIn
    server: HttpService
    user: SlackUser
    provisioner: Any
    audit: AuditLog
    clock: Clock
    bot: Bot
    db: Path
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def runtime(self) -> Runtime:
        return self.bot.runtime

    @property
    def app(self) -> Any:
        return self.bot.app

    def metric(self, sample: str) -> float:
        """One sample from GET /metrics (0 when absent), e.g. ``solti_approvals_waiting``."""
        reply = requests.get(self.server.url + "/metrics", timeout=5)
        for line in reply.text.splitlines():
            if line.startswith(sample + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def wait_metric(self, sample: str, value: float, timeout: float = 20) -> None:
        """Poll /metrics until ``sample`` reads ``value`` (work after the ack is asynchronous)."""
        deadline = time.monotonic() + timeout
        while (seen := self.metric(sample)) != value:
            assert time.monotonic() < deadline, f"{sample} is {seen}, expected {value}"
            time.sleep(0.05)

    def wait_counted(self, sample: str, at_least: float, timeout: float = 30) -> None:
        """Poll /metrics until the counter ``sample`` reaches ``at_least``.

        The counters live in the process's one registry, and a flow an earlier test started
        may still end (and count) in the background after that test's bot stopped, so a
        counter is awaited to reach its value rather than to equal it (CI saw 56 for 54).
        """
        deadline = time.monotonic() + timeout
        while (seen := self.metric(sample)) < at_least:
            assert time.monotonic() < deadline, f"{sample} is {seen}, expected >= {at_least}"
            time.sleep(0.05)

    def ephemeral_texts(self, user: str = ALICE) -> list[str]:
        return [m.get("text", "") for m in self.standin.ephemerals(user)]

    def wait_ephemeral(self, needle: str, user: str = ALICE, timeout: float = 10) -> str:
        def found() -> str | None:
            for text in self.ephemeral_texts(user):
                if needle in text:
                    return text
            return None

        return self.standin.wait_for(found, timeout)


@pytest.fixture(scope="package")
def sim() -> Iterator[SimEnvironment]:
    with SimEnvironment(policy=POLICY) as env:
        yield env


@pytest.fixture(scope="package")
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as server:
        for channel, name in ((INFRA, "infra"), (APPROVALS, "approvals"), (REPORTS, "reports")):
            server.add_channel(channel, name)  # the bot was invited where it posts
        yield server


@pytest.fixture(scope="package")
def template_built(sim: SimEnvironment, tmp_path_factory: pytest.TempPathFactory) -> int:
    """One rocky9 template on the cluster, built through the real provisioning code."""
    policy = load_policy(sim.config_path)
    db = tmp_path_factory.mktemp("build") / "build.db"
    provisioner = build_provisioner(ProxmoxSettings.from_env(sim.env), policy, db)
    return provisioner.build_template("rocky9", actor="setup", via="cli").template.vmid


def make_harness(
    sim: SimEnvironment, standin: SlackStandIn, tmp: Path, policy: Any = None
) -> Harness:
    db = tmp / "solti.db"
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": standin.url,
            "SOLTI_DB": str(db),
            "SOLTI_CONFIG": str(sim.config_path),
        }
    )
    policy = policy or load_policy(sim.config_path)
    provisioner = build_provisioner(ProxmoxSettings.from_env(sim.env), policy, db)
    clock = Clock()
    bot = build_bot(settings, provisioner, policy, clock=clock)
    # Served as `solti bot` serves it (/metrics beside Slack's route), without the scheduled
    # jobs: tests drive expiry and reports explicitly.
    server = HttpService(bot).start(jobs=False)
    user = SlackUser(server.events_url, SIGNING_SECRET, standin)
    return Harness(sim, standin, server, user, provisioner, provisioner.audit, clock, bot, db)


@contextmanager
def running_bot(
    sim: SimEnvironment, standin: SlackStandIn, tmp: Path, policy: Any = None
) -> Iterator[Harness]:
    """``make_harness``'s bot while the block runs; its HTTP server stopped after the block,
    however it ends (a fixture yields inside the block)."""
    harness = make_harness(sim, standin, tmp, policy)
    try:
        yield harness
    finally:
        harness.server.stop()


def assert_blocks_accepted(standin: SlackStandIn) -> None:
    """Slack answered no call ``invalid_blocks`` (a message or view it would not show)."""
    bad = [c for c in standin.calls if c.response.get("error") == "invalid_blocks"]
    assert not bad, f"Slack answered invalid_blocks: {[c.response for c in bad]}"


@pytest.fixture
def bot(
    sim: SimEnvironment, standin: SlackStandIn, tmp_path: Path, template_built: int
) -> Iterator[Harness]:
    standin.reset()
    with running_bot(sim, standin, tmp_path) as harness:
        harness.extras["template_vmid"] = template_built
        yield harness
    assert_blocks_accepted(standin)
    late = standin.ack_timeouts  # Slack shows operation_timeout after 3 s
    assert not late, f"the bot acknowledged too late for Slack: {late}"


@pytest.fixture
def templates_as_found(bot: Harness) -> Iterator[None]:
    """Destroy the templates a test built: the package's tests share one cluster, and some
    of them name the templates it holds."""
    before = {t.vmid for t in bot.provisioner.list_templates()}
    yield
    for template in bot.provisioner.list_templates():
        if template.vmid not in before:
            bot.provisioner.destroy_template(template.vmid, actor="test-cleanup", via="cli")


def socket_mode_bot(sim: SimEnvironment, slack_url: str, app_token: str, db: Path) -> Bot:
    """A bot in Socket Mode against ``sim`` and the stand-in at ``slack_url``."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_APP_TOKEN": app_token,
            "SLACK_API_URL": slack_url,
            "SOLTI_DB": str(db),
            "SOLTI_CONFIG": str(sim.config_path),
        }
    )
    policy = load_policy(sim.config_path)
    provisioner = build_provisioner(ProxmoxSettings.from_env(sim.env), policy, db)
    return build_bot(settings, provisioner, policy)
