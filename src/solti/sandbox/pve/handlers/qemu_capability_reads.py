"""QEMU capabilities of a node: the CPU flags a VM may set.

qemu-server ``src/PVE/API2/Qemu/CPUFlags.pm`` ``index`` (the 9.1 version with ``arch``,
commit 7f74387c) answers ``PVE::QemuServer::CPUConfig::get_supported_cpu_flags($arch)``:
the fixed ``$supported_cpu_flags_by_arch`` table of ``src/PVE/QemuServer/CPUConfig.pm``, the
host architecture's when none is asked (the simulated node is x86_64); aarch64 has none.
"""

from __future__ import annotations

from solti.sandbox.pve.handlers import Call, Handler

X86_64_FLAGS = [
    (
        "nested-virt",
        "Controls nested virtualization, namely 'svm' for AMD CPUs and 'vmx' for Intel CPUs."
        " Live migration still only works if it's the same flag on both sides. Use a CPU model"
        " similar to the host, with the same vendor, not x86-64-vX!",
    ),
    ("md-clear", "Required to let the guest OS know if MDS is mitigated correctly."),
    ("pcid", "Meltdown fix cost reduction on Westmere, Sandy-, and IvyBridge Intel CPUs."),
    ("spec-ctrl", "Allows improved Spectre mitigation with Intel CPUs."),
    ("ssbd", "Protection for 'Speculative Store Bypass' for Intel models."),
    ("ibpb", "Allows improved Spectre mitigation with AMD CPUs."),
    ("virt-ssbd", "Basis for 'Speculative Store Bypass' protection for AMD models."),
    (
        "amd-ssbd",
        "Improves Spectre mitigation performance with AMD CPUs, best used with 'virt-ssbd'.",
    ),
    ("amd-no-ssb", "Notifies guest OS that host is not vulnerable for Spectre on AMD CPUs."),
    ("pdpe1gb", "Allow guest OS to use 1GB size pages, if host HW supports it."),
    (
        "hv-tlbflush",
        "Improve performance in overcommitted Windows guests. May lead to guest bluescreens"
        " on old CPUs.",
    ),
    ("hv-evmcs", "Improve performance for nested virtualization. Only supported on Intel CPUs."),
    ("aes", "Activate AES instruction set for HW acceleration."),
]


def cpu_flags(call: Call) -> list[dict[str, str]]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
    if call.params.get("arch", "x86_64") != "x86_64":
        return []
    return [{"name": name, "description": text} for name, text in X86_64_FLAGS]


QEMU_CAPABILITY_READS: dict[str, Handler] = {
    "/nodes/{node}/capabilities/qemu/cpu-flags": cpu_flags,
}
