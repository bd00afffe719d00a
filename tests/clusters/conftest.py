"""The bot of tests/clusters: one bot, two simulated clusters and one that is down.

Built as `solti bot` builds itself (``composition.load_configuration`` ->
``bot_from_configuration``), served over HTTP (waitress), driven with ``SlackUser`` (signed
slash commands) against the Slack stand-in. The clusters are two ``SimEnvironment`` simulators
over HTTPS and a URL where nothing listens. ``home`` and ``lab`` serve test_cli_clusters.py
too (module-scoped: one pair per test module).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from solti.composition import HttpService, bot_from_configuration, load_configuration
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn, SlackUser
from tests.clusters.worlds import (
    ALICE,
    APPROVALS,
    APPROVER,
    DEAD_CHANNEL,
    DEAD_SECRET,
    DEAD_SECRET_VARIABLE,
    INFRA,
    LAB_CHANNEL,
    LAB_SECRET_VARIABLE,
    SIGNING_SECRET,
    Served,
    closed_port,
    cluster_entry,
    dead_entry,
    policy_file,
)
from tests.helpers.worlds import seed_template


@pytest.fixture(scope="module")
def home() -> Iterator[SimEnvironment]:
    with SimEnvironment() as env:
        yield env


@pytest.fixture(scope="module")
def lab() -> Iterator[SimEnvironment]:
    with SimEnvironment() as env:
        yield env


@pytest.fixture(scope="module")
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as server:
        channels = ((INFRA, "infra"), (LAB_CHANNEL, "lab"), (DEAD_CHANNEL, "dead"),
                    (APPROVALS, "approvals"))  # fmt: skip
        for channel, name in channels:
            server.add_channel(channel, name)
        yield server


@pytest.fixture
def served(
    home: SimEnvironment, lab: SimEnvironment, standin: SlackStandIn, tmp_path: Path
) -> Iterator[Served]:
    home.reset()
    lab.reset()
    standin.reset()
    seed_template(home)
    seed_template(lab)
    clusters = {
        "lab": cluster_entry(lab, LAB_SECRET_VARIABLE, channels=[LAB_CHANNEL]),
        "dead": {**dead_entry(home, closed_port()), "channels": [DEAD_CHANNEL]},
    }
    extra = {
        "clusters": clusters,
        "defaults": {"address_wait_seconds": 0},
        "approvers": [APPROVER],
        "admins": [ALICE],  # may remove the seeded VMs no one owns
        "approvals_channel": APPROVALS,
        "reports": {"notify_owners": True},  # notices run only when a test calls them
    }
    policy = policy_file(home, tmp_path, extra)
    db = tmp_path / "solti.db"
    env = {
        **home.env,
        "SOLTI_CONFIG": str(policy),
        "SOLTI_DB": str(db),
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": standin.url,
        LAB_SECRET_VARIABLE: lab.pve.token_secret,
        DEAD_SECRET_VARIABLE: DEAD_SECRET,
    }
    bot = bot_from_configuration(load_configuration(env))
    server = HttpService(bot).start(jobs=False)
    served = Served(server, SlackUser(server.events_url, SIGNING_SECRET, standin), standin, db)
    try:
        yield served
    finally:
        server.stop()
        served.audit.close()
        assert not standin.ack_timeouts, standin.ack_timeouts
        everything = json.dumps([c.params for c in standin.calls], default=str)
        for secret in (DEAD_SECRET, lab.pve.token_secret, home.pve.token_secret):
            assert secret not in everything
