"""One bot, two simulated clusters and one that is down, routed by channel; signed Slack requests.

Built as `solti bot` builds itself (``composition.load_configuration`` ->
``bot_from_configuration``), served over HTTP (waitress), driven with ``SlackUser`` (signed
slash commands) against the Slack stand-in. The clusters are two ``SimEnvironment`` simulators
over HTTPS and a URL where nothing listens.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from solti.bot.notices import NoticeStore, send_notices
from solti.composition import HttpService, bot_from_configuration, load_configuration
from solti.provisioning.audit_log import AuditLog
from solti.provisioning.notes import render_notes
from solti.sandbox.environment import SimEnvironment
from solti.sandbox.slack import SlackStandIn, SlackUser
from tests.clusters.worlds import (
    DEAD_SECRET_VARIABLE,
    LAB_CHANNEL,
    LAB_SECRET_VARIABLE,
    closed_port,
    cluster_entry,
    dead_entry,
    policy_file,
    seed_template,
)
from tests.helpers.keys import new_ssh_key

SIGNING_SECRET = "clusters-signing-secret"
DEAD_SECRET = "dead-cluster-secret-never-shown"
ALICE, APPROVER = "U0ALICE", "U0APPROVER"
INFRA, DEAD_CHANNEL, APPROVALS = "C0INFRA", "C0DEAD", "C0APPROVALS"


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


class Served:
    """The bot as served, the person typing, and the shared audit file."""

    def __init__(self, server: HttpService, user: SlackUser, standin: SlackStandIn, db: Path):
        self.server, self.user, self.standin, self.db = server, user, standin, db
        self.audit = AuditLog(db)  # every cluster's records

    def ephemerals(self) -> str:
        return json.dumps(self.standin.ephemerals(ALICE))

    def wait(self, check: Callable[[], Any], what: str, timeout: float = 30) -> Any:
        """Work after the ack is asynchronous: wait (bounded) until ``check()`` holds."""
        deadline = time.monotonic() + timeout
        while not (found := check()):
            assert time.monotonic() < deadline, f"never happened: {what}"
            time.sleep(0.05)
        return found

    def wait_ephemeral(self, needle: str) -> str:
        return self.wait(lambda: needle in self.ephemerals() and self.ephemerals(), needle)

    def created(self, name: str) -> Any:
        def found() -> Any:
            for record in self.audit.query(action="vm create", result="ok"):
                if record.name == name:
                    return record
            return None

        return self.wait(found, f"VM {name} created")


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


def test_channels_route_to_their_cluster_and_cluster_overrides(
    served: Served, home: SimEnvironment, lab: SimEnvironment
) -> None:
    key = new_ssh_key("alice@laptop")
    served.user.slash(f"key set {key}", user=ALICE, channel=INFRA)
    served.wait_ephemeral("Fingerprint")

    served.user.slash("vm create rocky9 --name on-lab", user=ALICE, channel=LAB_CHANNEL)
    on_lab = served.created("on-lab")
    served.user.slash("vm create rocky9 --name on-home", user=ALICE, channel=INFRA)
    on_home = served.created("on-home")
    served.user.slash("vm create rocky9 --name lab-too --cluster lab", user=ALICE, channel=INFRA)
    lab_too = served.created("lab-too")

    # VMIDs are per cluster; each VM is where its channel (or --cluster) sent it.
    assert (on_lab.cluster, on_lab.vmid) == ("lab", 500)
    assert (on_home.cluster, on_home.vmid) == ("default", 500)
    assert (lab_too.cluster, lab_too.vmid) == ("lab", 501)
    assert {v: g.conf["name"] for v, g in lab.pve.state.guests.items() if v < 9000} == {
        500: "on-lab", 501: "lab-too",
    }  # fmt: skip
    assert {v: g.conf["name"] for v, g in home.pve.state.guests.items() if v < 9000} == {
        500: "on-home"
    }
    # Leases are per cluster too.
    rows = served.audit.conn.execute("SELECT cluster, vmid FROM lease ORDER BY cluster, vmid")
    assert rows.fetchall() == [("default", 500), ("lab", 500), ("lab", 501)]

    # The lab channel lists the lab cluster's VMs; --cluster default from there lists home's.
    served.standin.reset()
    served.user.slash("vm list", user=ALICE, channel=LAB_CHANNEL)
    listed = served.wait_ephemeral("lab-too")
    assert "on-lab" in listed and "on-home" not in listed
    assert "VMs on cluster lab" in listed  # the list says which cluster it is
    served.standin.reset()
    served.user.slash("vm list --cluster default", user=ALICE, channel=LAB_CHANNEL)
    listed = served.wait_ephemeral("on-home")
    assert "on-lab" not in listed


def test_a_cluster_that_is_down_answers_alone_and_the_others_still_work(
    served: Served,
) -> None:
    served.user.slash("vm list", user=ALICE, channel=DEAD_CHANNEL)
    served.user.slash("template list", user=ALICE, channel=LAB_CHANNEL)
    down = served.wait_ephemeral("cluster `dead`")
    assert "not answering" in down
    served.wait_ephemeral("rocky9-template")
    served.standin.reset()
    served.user.slash("vm list --cluster lab", user=ALICE, channel=DEAD_CHANNEL)
    served.wait_ephemeral("No VMs on the cluster")


def test_unknown_or_malformed_cluster_is_refused_in_the_ack(served: Served) -> None:
    unknown = served.user.slash("vm list --cluster prod", user=ALICE, channel=INFRA).json()
    assert "Unknown cluster `prod`; known: default, lab, dead." in json.dumps(unknown)
    bad = served.user.slash("vm list --cluster Prod!", user=ALICE, channel=INFRA).json()
    assert "is not a cluster name" in json.dumps(bad)
    twice = served.user.slash("vm list --cluster lab --cluster dead", channel=INFRA).json()
    assert "given twice" in json.dumps(twice)


def test_an_approved_build_runs_on_the_cluster_it_was_asked_for(
    served: Served, home: SimEnvironment, lab: SimEnvironment
) -> None:
    """The approver clicks in the approvals channel (routed nowhere): the build still goes to
    the cluster the requester named, which the card shows."""
    served.user.slash("template build debian12 --cluster lab", user=ALICE, channel=INFRA)
    served.wait_ephemeral("waiting for an approver")
    card = served.standin.wait_for(lambda: served.standin.last_message(APPROVALS), 20)
    assert "lab" in json.dumps(card["blocks"])
    served.user.click(card, "approval_approve", user=APPROVER)

    def built() -> Any:
        records = served.audit.query(action="template build", result="ok")
        return records[0] if records else None

    record = served.wait(built, "the approved build", timeout=60)
    assert record.cluster == "lab"
    assert any(g.is_template and g.conf.get("name", "").startswith("debian12")
               for g in lab.pve.state.guests.values())  # fmt: skip
    assert [v for v, g in home.pve.state.guests.items() if g.is_template] == [9000]
    # The request row (written on lab's side) is completed by the approver's click.
    asked = served.audit.query(action="template build request")
    assert [(r.cluster, r.result) for r in asked] == [("lab", "ok")]
    # The decision is recorded on the request's cluster, not the approvals channel's.
    approved = served.audit.query(action="template build approve")
    assert [(r.cluster, r.actor) for r in approved] == [("lab", APPROVER)]


def test_a_denial_is_recorded_on_the_cluster_of_the_request(served: Served) -> None:
    served.user.slash("template build debian12", user=ALICE, channel=LAB_CHANNEL)
    served.wait_ephemeral("waiting for an approver")
    card = served.standin.wait_for(lambda: served.standin.last_message(APPROVALS), 20)
    served.user.click(card, "approval_deny", user=APPROVER)
    denied = served.wait(
        lambda: served.audit.query(action="template build deny"), "the denial record"
    )
    assert [(r.cluster, r.actor, r.result) for r in denied] == [("lab", APPROVER, "denied")]
    asked = served.audit.query(action="template build request")
    assert [(r.cluster, r.result) for r in asked] == [("lab", "denied")]


def test_a_button_acts_on_the_cluster_its_message_was_about(
    served: Served, home: SimEnvironment, lab: SimEnvironment
) -> None:
    """`vm remove 500 --cluster lab` typed in a default-cluster channel: the confirmation's
    Remove button removes lab's VM 500, never the other cluster's VM with the same VMID."""
    home.pve.state.add_vm(500, "home-keeps")
    lab.pve.state.add_vm(500, "lab-goes")
    served.user.slash("vm remove 500 --cluster lab", user=ALICE, channel=INFRA)

    def confirmation() -> Any:
        for message in served.standin.ephemerals(ALICE):
            if "vm_remove" in json.dumps(message.get("blocks", [])):
                return message
        return None

    message = served.wait(confirmation, "the remove confirmation")
    assert '"500@lab"' in json.dumps(message["blocks"])
    served.user.click(message, "vm_remove", user=ALICE)
    served.wait(lambda: 500 not in lab.pve.state.guests, "lab's VM 500 removed")
    assert home.pve.state.guests[500].conf["name"] == "home-keeps"
    record = served.wait(
        lambda: served.audit.query(action="vm remove", result="ok"), "the remove record"
    )[0]
    assert (record.cluster, record.vmid) == ("lab", 500)


def test_the_form_opened_for_a_cluster_creates_there(
    served: Served, home: SimEnvironment, lab: SimEnvironment
) -> None:
    """`/solti vm create --cluster lab` in a channel routed to `default`: the form lists lab's
    templates, and its submit (a request of its own, with no --cluster) creates on lab."""
    key = new_ssh_key("alice@laptop")
    served.user.slash(f"key set {key}", user=ALICE, channel=INFRA)
    served.wait_ephemeral("Fingerprint")
    served.user.slash("vm create --cluster lab", user=ALICE, channel=INFRA)

    def form() -> Any:
        views = [v for v in served.standin.open_views(ALICE) if v.get("callback_id") == "vm_create"]
        return views[0] if views else None

    view = served.wait(form, "the create form")
    assert json.loads(view["private_metadata"])["cluster"] == "lab"
    template = next(v for v in lab.pve.state.guests if v >= 9000)
    reply = served.user.submit_view(view, {"template": str(template), "name": "from-form"})
    assert reply.status_code == 200, reply.text
    made = served.created("from-form")
    assert made.cluster == "lab"
    assert "from-form" in {g.conf.get("name") for g in lab.pve.state.guests.values()}
    assert "from-form" not in {g.conf.get("name") for g in home.pve.state.guests.values()}


def test_vm_list_over_every_cluster_groups_them_and_names_the_one_down(
    served: Served, home: SimEnvironment, lab: SimEnvironment
) -> None:
    """A channel routed nowhere lists every cluster (as `solti vm list` does); `--cluster all`
    does from anywhere; `--mine` keeps the caller's; the dead cluster is one line."""
    key = new_ssh_key("alice@laptop")
    served.user.slash(f"key set {key}", user=ALICE, channel=INFRA)
    served.wait_ephemeral("Fingerprint")
    served.user.slash("vm create rocky9 --name alice-lab", user=ALICE, channel=LAB_CHANNEL)
    served.created("alice-lab")
    home.pve.state.add_vm(600, "nobodys-home")
    lab.pve.state.add_vm(601, "nobodys-lab")

    served.standin.reset()
    served.user.slash("vm list", user=ALICE, channel=INFRA)
    listed = served.wait_ephemeral("nobodys-lab")
    order = [listed.index(s) for s in ("Cluster `default`", "nobodys-home", "Cluster `lab`",
                                       "alice-lab", "Cluster `dead` did not answer")]  # fmt: skip
    assert order == sorted(order)
    assert listed.count("did not answer") == 1 and "not answering" in listed
    assert "Traceback" not in listed

    served.standin.reset()
    served.user.slash("vm list --cluster all --mine", user=ALICE, channel=LAB_CHANNEL)
    mine = served.wait_ephemeral("Your VMs on clusters")
    assert "alice-lab" in mine and "nobodys" not in mine
    assert "You have no VMs here." in mine  # default: none of Alice's
    # The routed channel alone still lists its own cluster only.
    served.standin.reset()
    served.user.slash("vm list", user=ALICE, channel=LAB_CHANNEL)
    only_lab = served.wait_ephemeral("VMs on cluster lab")
    assert "nobodys-home" not in only_lab and "did not answer" not in only_lab


def test_cluster_all_is_for_the_vm_list_only(served: Served) -> None:
    refused = served.user.slash("vm remove 500 --cluster all", user=ALICE, channel=INFRA).json()
    assert "`--cluster all` is for `vm list` only" in json.dumps(refused)


def test_app_home_shows_every_cluster_and_its_buttons_act_there(
    served: Served, home: SimEnvironment, lab: SimEnvironment
) -> None:
    key = new_ssh_key("alice@laptop")
    served.user.slash(f"key set {key}", user=ALICE, channel=INFRA)
    served.wait_ephemeral("Fingerprint")
    served.user.slash("vm create rocky9 --name home-one", user=ALICE, channel=INFRA)
    served.created("home-one")
    served.user.slash("vm create rocky9 --name lab-one", user=ALICE, channel=LAB_CHANNEL)
    served.created("lab-one")
    assert home.pve.state.guests[500].running and lab.pve.state.guests[500].running

    served.user.open_home(user=ALICE)
    view = served.wait(lambda: served.standin.home(ALICE), "the Home tab")
    shown = json.dumps(view["blocks"])
    assert "Cluster `default`" in shown and "Cluster `lab`" in shown
    assert '"500@default"' in shown and '"500@lab"' in shown  # same VMID, two clusters
    assert shown.count("did not answer") == 1 and "Cluster `dead` did not answer" in shown
    assert "Your quota" in shown

    # [Stop] of lab's VM 500 stops that one, not default's VM 500.
    lab_block = next(b for b in view["blocks"] if '"500@lab"' in json.dumps(b)
                     and b.get("type") == "actions")  # fmt: skip
    served.user.click({**view, "blocks": [lab_block]}, "vm_stop", user=ALICE)
    served.wait(lambda: not lab.pve.state.guests[500].running, "lab's VM 500 stopped")
    assert home.pve.state.guests[500].running
    stop = served.wait(lambda: served.audit.query(action="vm stop", result="ok"), "the stop")[0]
    assert (stop.cluster, stop.vmid) == ("lab", 500)

    def redrawn() -> bool:  # the click draws the tab again: lab's VM now offers [Start]
        blocks = (served.standin.home(ALICE) or {}).get("blocks", [])
        return any('"500@lab"' in json.dumps(b) and "vm_start" in json.dumps(b) for b in blocks)

    served.wait(redrawn, "the Home tab drawn again")


def test_the_report_has_a_section_per_cluster_and_names_the_dead_one(
    served: Served, home: SimEnvironment, lab: SimEnvironment
) -> None:
    lab.pve.state.add_template(
        9001, "debian12-template", disk_size="2G", tags=["solti", "template", "debian12"]
    )
    served.user.slash("report", user=ALICE, channel=INFRA)

    def posted() -> str | None:
        message = served.standin.last_message(INFRA)
        text = json.dumps(message) if message else ""
        return text if "Cluster lab" in text else None

    report = served.wait(posted, "the report")
    expected = ("Cluster default", "rocky9-template", "Cluster lab", "debian12-template",
                "Cluster `dead` did not answer")  # fmt: skip
    order = [report.index(s) for s in expected]
    assert order == sorted(order)
    default_part = report[report.index("Cluster default") : report.index("Cluster lab")]
    assert "debian12-template" not in default_part  # lab's template is in lab's section only
    assert report.count("did not answer") == 2  # the line, and the summary text
    assert DEAD_SECRET not in report


def seed_rocky_build(world: SimEnvironment, vmid: int, days: int) -> None:
    """A finished rocky9 build ``days`` from now (its notes as a build writes them)."""
    built = datetime.now(UTC) + timedelta(days=days)
    meta = {"distribution": "rocky9", "version": f"9.7-{built:%Y%m%d}"}
    notes = render_notes({**meta, "build_date": built.isoformat()})
    world.pve.state.add_template(
        vmid, "rocky9-template", disk_size="10G", tags=["solti", "template", "rocky9"],
        description=notes,
    )  # fmt: skip


def test_outdated_template_notices_per_cluster_and_dismissed_on_one(
    served: Served, home: SimEnvironment, lab: SimEnvironment
) -> None:
    """The same template VMID (9002) is news on both clusters: two notices, each naming its
    cluster; [Dismiss] on lab's dismisses lab's only. The dead cluster stops neither."""
    seed_rocky_build(home, 9001, days=-30)
    seed_rocky_build(lab, 9001, days=-30)
    key = new_ssh_key("alice@laptop")
    served.user.slash(f"key set {key}", user=ALICE, channel=INFRA)
    served.wait_ephemeral("Fingerprint")
    served.user.slash("vm create rocky9 --name home-old", user=ALICE, channel=INFRA)
    served.created("home-old")
    served.user.slash("vm create rocky9 --name lab-old", user=ALICE, channel=LAB_CHANNEL)
    served.created("lab-old")
    home.pve.state.rrd_lag = lab.pve.state.rrd_lag = 0
    seed_rocky_build(home, 9002, days=1)
    seed_rocky_build(lab, 9002, days=1)
    runtime = served.server.bot.runtime
    assert send_notices(runtime) == 2
    assert send_notices(runtime) == 0  # once per cluster, owner and build
    dm = served.standin.state.resolve_channel(ALICE)
    notices = [m for m in served.standin.messages(dm) if "newer" in m.get("text", "")]
    assert sorted(m["text"].rsplit("(cluster ", 1)[1] for m in notices) == ["default)", "lab)"]
    lab_notice = next(m for m in notices if m["text"].endswith("(cluster lab)"))
    assert '"9002@lab"' in json.dumps(lab_notice["blocks"])
    served.user.click(lab_notice, "template_notice_dismiss", user=ALICE)
    store = NoticeStore(runtime.database)
    served.wait(lambda: store.get(ALICE, 9002, cluster="lab")["dismissed_at"], "lab's dismissal")
    assert store.get(ALICE, 9002, cluster="default")["dismissed_at"] is None
