"""How far behind a VM's template is (bot.fleet_facts): versions by VMID, days by build date."""

from __future__ import annotations

from datetime import UTC, datetime


def test_outdated_facts_say_how_far_behind() -> None:
    from types import SimpleNamespace as NS

    from solti.bot.fleet_facts import outdated_vms

    def build(vmid: int, day: int) -> NS:
        return NS(vmid=vmid, name="rocky9-template", distribution="rocky9",
                  version=f"9.{vmid}", build_date=datetime(2026, 11, day, tzinfo=UTC))  # fmt: skip

    templates = [build(9000, 1), build(9001, 10), build(9002, 21)]
    vms = [
        NS(vmid=vmid, template_vmid=template, template_name="rocky9-template", owner="a")
        for vmid, template in ((500, 9000), (501, 9002), (502, 8000))
    ]
    found = {o.vm.vmid: o.behind for o in outdated_vms(vms, templates)}
    assert found == {500: "2 versions behind, 20 days older", 502: "3 versions behind"}
