"""Views over every cluster, with one cluster down: `/solti vm list` grouped by cluster, App Home,
the report, outdated-template notices (the bot: tests/clusters/conftest.py ``served``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from solti.bot.notices import NoticeStore, send_notices
from solti.provisioning.notes import render_notes
from solti.sandbox.environment import SimEnvironment
from tests.clusters.worlds import (
    ALICE,
    DEAD_SECRET,
    INFRA,
    LAB_CHANNEL,
    Served,
)


def test_vm_list_over_every_cluster_groups_them_and_names_the_one_down(
    served: Served, home: SimEnvironment, lab: SimEnvironment
) -> None:
    """A channel routed nowhere lists every cluster (as `solti vm list` does); `--cluster all`
    does from anywhere; `--mine` keeps the caller's; the dead cluster is one line."""
    served.set_key()
    served.create("alice-lab", LAB_CHANNEL)
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
    served.set_key()
    served.create("home-one", INFRA)
    served.create("lab-one", LAB_CHANNEL)
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
    served.set_key()
    served.create("home-old", INFRA)
    served.create("lab-old", LAB_CHANNEL)
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
