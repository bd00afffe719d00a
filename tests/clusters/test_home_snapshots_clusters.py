"""App Home's [Snapshots] with several clusters: the button names its VM's cluster (`500@lab`,
``cluster_context.button_value``), the list is that cluster's, and the list's own buttons name
it too, so [Take a snapshot] and [Roll back to…] act on lab's VM 500, not default's."""

from __future__ import annotations

import json

from solti.sandbox.environment import SimEnvironment
from tests.clusters.worlds import ALICE, INFRA, LAB_CHANNEL, Served


def test_snapshots_of_the_clusters_vm(
    served: Served, home: SimEnvironment, lab: SimEnvironment
) -> None:
    served.set_key()
    served.create("home-one", INFRA)
    served.create("lab-one", LAB_CHANNEL)
    served.user.slash("snapshot create 500 labsnap", user=ALICE, channel=LAB_CHANNEL)
    served.wait_ephemeral("snapshot `labsnap` taken")

    served.user.open_home(user=ALICE)
    view = served.wait(lambda: served.standin.home(ALICE), "the Home tab")
    lab_block = next(b for b in view["blocks"] if '"500@lab"' in json.dumps(b)
                     and b.get("type") == "actions")  # fmt: skip
    assert {"vm_snapshots": "500@lab"}.items() <= {
        e["action_id"]: e["value"] for e in lab_block["elements"]
    }.items()
    served.user.click({**view, "blocks": [lab_block]}, "vm_snapshots", user=ALICE)

    def listed() -> dict | None:
        return next((m for m in served.standin.messages(ALICE)
                     if m.get("text", "").startswith("Snapshots of VM 500 ")), None)  # fmt: skip

    message = served.wait(listed, "lab's snapshot list in the DM")
    assert "`labsnap`" in json.dumps(message["blocks"])
    values = [e["value"] for b in message["blocks"] if b["type"] == "actions"
              for e in b["elements"]]  # fmt: skip
    assert values == ["500@lab", "500:labsnap@lab"]
    served.user.click(message, "snapshot_take", user=ALICE)
    served.wait(lambda: len(lab.pve.state.guests[500].snapshots) == 2, "a second lab snapshot")
    assert not home.pve.state.guests[500].snapshots
    served.wait(
        lambda: [p for p in served.standin.response_posts
                 if "taken" in json.dumps(p.body) and "labsnap" not in json.dumps(p.body)],
        "the answer to [Take a snapshot]",
    )  # fmt: skip
