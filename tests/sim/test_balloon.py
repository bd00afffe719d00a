"""Memory below the balloon: qemu-server ``src/PVE/API2/Qemu.pm`` ``$update_vm_api``
(``$load_and_check_config``) dies "balloon value too large (must be smaller than assigned
memory)" when the balloon would exceed the memory (issue 11, point 2)."""

from __future__ import annotations

from typing import Any

import pytest
from proxmoxer.core import ResourceException

from solti.sandbox.pve import PveSimulator
from tests.sim.conftest import NODE

TOO_LARGE = "balloon value too large (must be smaller than assigned memory)"


def test_memory_below_the_configured_balloon_is_refused(pve: PveSimulator, api: Any) -> None:
    pve.state.add_vm(100, memory="4096", balloon="2048")
    config = api.nodes(NODE).qemu(100).config
    with pytest.raises(ResourceException) as info:
        config.put(memory=1024)
    assert (info.value.status_code, info.value.content) == (500, TOO_LARGE)
    assert pve.state.vm_config(100)["memory"] == "4096"


def test_setting_balloon_and_memory_together_or_a_zero_balloon_works(
    pve: PveSimulator, api: Any
) -> None:
    pve.state.add_vm(100, memory="4096", balloon="2048")
    config = api.nodes(NODE).qemu(100).config
    config.put(memory=1024, balloon=512)
    assert pve.state.vm_config(100)["balloon"] == "512"
    config.put(memory=256, balloon=0)
    with pytest.raises(ResourceException, match="balloon value too large"):
        config.put(balloon=512)
