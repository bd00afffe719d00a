"""One bot, two simulated clusters and one that is down, routed by channel; signed Slack requests
(the bot: tests/clusters/conftest.py ``served``)."""

from __future__ import annotations

import json
from typing import Any

from solti.sandbox.environment import SimEnvironment
from tests.clusters.worlds import (
    ALICE,
    APPROVALS,
    APPROVER,
    DEAD_CHANNEL,
    INFRA,
    LAB_CHANNEL,
    Served,
)


def test_channels_route_to_their_cluster_and_cluster_overrides(
    served: Served, home: SimEnvironment, lab: SimEnvironment
) -> None:
    served.set_key()

    on_lab = served.create("on-lab", LAB_CHANNEL)
    on_home = served.create("on-home", INFRA)
    lab_too = served.create("lab-too", INFRA, "--cluster", "lab")

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
    # The request's own record is closed by a second write after the denial's (a busy
    # machine can run this line between the two): wait for it rather than read it once.
    asked = served.wait(
        lambda: [
            r for r in served.audit.query(action="template build request") if r.result != "running"
        ],
        "the request record closed",
    )
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
    served.set_key()
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
