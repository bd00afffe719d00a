"""The node's QEMU CPU models (``GET /nodes/{node}/capabilities/qemu/cpu``).

qemu-server ``src/PVE/API2/Qemu/CPU.pm`` ``index`` answers
``PVE::QemuServer::CPUConfig::get_cpu_models(1, $arch)`` (``src/PVE/QemuServer/CPUConfig.pm``):
one row per model QEMU offers on the host architecture (``name``, ``custom: 0``, ``vendor``),
``host`` (vendor ``default``), the abstract ``x86-64-v2``..``v4`` models of
``$builtin_models_by_arch`` (``abstract: 1``, the vendor of their reported model ``qemu64``),
then the custom models of ``cpu-models.conf``, of which a fresh cluster has none.

The model list is the x86_64 table ``initialize_cpu_models`` carries in its source (used when
QEMU ships no ``cpu-models-x86_64.json``); the file pve-qemu installs may name a few more
versions. The simulated node is x86_64 (``Nodes.hardware``).
"""

from __future__ import annotations

from typing import Any

from solti.sandbox.pve.handlers import Call, Handler

MODELS_BY_VENDOR: dict[str, list[str]] = {
    "GenuineIntel": [
        "486", "pentium", "pentium2", "pentium3", "coreduo", "core2duo", "Conroe", "Penryn",
        "Nehalem", "Nehalem-IBRS", "Westmere", "Westmere-IBRS", "SandyBridge",
        "SandyBridge-IBRS", "IvyBridge", "IvyBridge-IBRS", "Haswell", "Haswell-IBRS",
        "Haswell-noTSX", "Haswell-noTSX-IBRS", "Broadwell", "Broadwell-IBRS", "Broadwell-noTSX",
        "Broadwell-noTSX-IBRS", "Skylake-Client", "Skylake-Client-IBRS",
        "Skylake-Client-noTSX-IBRS", "Skylake-Client-v4", "Skylake-Server",
        "Skylake-Server-IBRS", "Skylake-Server-noTSX-IBRS", "Skylake-Server-v4",
        "Skylake-Server-v5", "Cascadelake-Server", "Cascadelake-Server-v2",
        "Cascadelake-Server-noTSX", "Cascadelake-Server-v4", "Cascadelake-Server-v5",
        "Cooperlake", "Cooperlake-v2", "KnightsMill", "Icelake-Client", "Icelake-Client-noTSX",
        "Icelake-Server", "Icelake-Server-noTSX", "Icelake-Server-v3", "Icelake-Server-v4",
        "Icelake-Server-v5", "Icelake-Server-v6", "Icelake-Server-v7", "SapphireRapids",
        "SapphireRapids-v2", "SapphireRapids-v3", "SapphireRapids-v4", "GraniteRapids",
        "GraniteRapids-v2", "GraniteRapids-v3", "SierraForest", "SierraForest-v2",
        "SierraForest-v3", "ClearwaterForest",
    ],
    "AuthenticAMD": [
        "athlon", "phenom", "Opteron_G1", "Opteron_G2", "Opteron_G3", "Opteron_G4",
        "Opteron_G5", "EPYC", "EPYC-IBPB", "EPYC-v3", "EPYC-v4", "EPYC-v5", "EPYC-Rome",
        "EPYC-Rome-v2", "EPYC-Rome-v3", "EPYC-Rome-v4", "EPYC-Rome-v5", "EPYC-Milan",
        "EPYC-Milan-v2", "EPYC-Milan-v3", "EPYC-Genoa", "EPYC-Genoa-v2", "EPYC-Turin",
    ],
    "default": [
        "kvm32", "kvm64", "qemu32", "qemu64", "max",
    ],
}  # fmt: skip
AARCH64_BY_VENDOR: dict[str, list[str]] = {
    "ARM": [
        "a64fx", "cortex-a35", "cortex-a53", "cortex-a55", "cortex-a57", "cortex-a710",
        "cortex-a72", "cortex-a76", "neoverse-n1", "neoverse-n2", "neoverse-v1",
    ],
    "default": ["max"],
}  # fmt: skip
ABSTRACT_MODELS = ["x86-64-v2", "x86-64-v2-AES", "x86-64-v3", "x86-64-v4"]


def cpu_models(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
    if call.params.get("arch", "x86_64") != "x86_64":
        # another architecture's table: no ``host`` model, no abstract models
        return [
            {"name": name, "custom": 0, "vendor": vendor}
            for vendor, names in AARCH64_BY_VENDOR.items()
            for name in names
        ]
    rows: list[dict[str, Any]] = [
        {"name": name, "custom": 0, "vendor": vendor}
        for vendor, names in MODELS_BY_VENDOR.items()
        for name in names
    ]
    rows.append({"name": "host", "custom": 0, "vendor": "default"})
    rows += [{"name": m, "custom": 0, "abstract": 1, "vendor": "default"} for m in ABSTRACT_MODELS]
    return rows


CPU_READS: dict[str, Handler] = {"/nodes/{node}/capabilities/qemu/cpu": cpu_models}
