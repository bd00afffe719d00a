"""The QEMU ``-cpu`` argument a VM runs with: what a RAM snapshot records as ``runningcpu``.

qemu-server ``src/PVE/QemuConfig.pm`` ``__snapshot_save_vmstate`` stores
``CPUConfig.pm`` ``get_cpu_from_running_vm`` (the ``-cpu`` value of the running process),
which ``config_to_command`` built with ``CPUConfig.pm`` ``get_cpu_options``. This module
computes that value from the config the VM was started with, for the node's QEMU 10.1 and a
machine of version 2.3 or newer (``$version_guard`` true up to 10.1; the QEMU 11 flags
``cet-ibt``/``cet-ss``/``vmx-mbec`` and ``hv_evmcs`` are never set):

- the type: ``kvm64`` without ``cpu`` (``qemu64`` with ``kvm: 0``; ``host``/``max`` on
  aarch64); a builtin ``x86-64-v*`` model reports ``qemu64`` with its flags
  (``$builtin_models_by_arch``); custom models (``cpu-models.conf``) are not modelled;
- ``get_pve_cpu_flags``: ``+lahf_lm`` and ``+sep`` for ``kvm64``, ``-x2apic`` for Solaris,
  ``-rdtscp`` for Opteron, ``+kvm_pv_unhalt``/``+kvm_pv_eoi`` with KVM on x86_64;
- ``get_hyperv_enlightenments`` for Windows 6 and later (not with OVMF below 8);
- the VM's own ``flags``, then ``enforce`` (not for ``host``), ``kvm=off`` for ``hidden``,
  ``vendor=`` for a model of a named vendor;
- ``level=`` after the type, ``phys-bits``/``guest-phys-bits`` at the end.

Flags are printed sorted by name (``print_cpu_flags``), later sources overriding earlier
ones (``resolve_cpu_flags``).
"""

from __future__ import annotations

from solti.sandbox.pve.state.drives import split_property_string
from solti.sandbox.pve.state.qemu_host import windows_version

BUILTIN_FLAGS = {
    "x86-64-v2": "+popcnt;+pni;+sse4.1;+sse4.2;+ssse3",
    "x86-64-v2-AES": "+aes;+popcnt;+pni;+sse4.1;+sse4.2;+ssse3",
    "x86-64-v3": "+aes;+popcnt;+pni;+sse4.1;+sse4.2;+ssse3;+avx;+avx2;+bmi1;+bmi2;+f16c;"
    "+fma;+abm;+movbe;+xsave",
    "x86-64-v4": "+aes;+popcnt;+pni;+sse4.1;+sse4.2;+ssse3;+avx;+avx2;+bmi1;+bmi2;+f16c;"
    "+fma;+abm;+movbe;+xsave;+avx512f;+avx512bw;+avx512cd;+avx512dq;+avx512vl",
}
# CPUConfig.pm's x86_64 model list: these use the host's vendor ('default'); the AMD models
# are named below; every other x86_64 model is Intel's.
DEFAULT_VENDOR = {"kvm32", "kvm64", "qemu32", "qemu64", "max", "host"}
AMD_PREFIXES = ("athlon", "phenom", "Opteron", "EPYC")
Flags = dict[str, tuple[str, str | None]]  # name -> (op, value)


def _vendor(cputype: str) -> str:
    if cputype in DEFAULT_VENDOR:
        return "default"
    return "AuthenticAMD" if cputype.startswith(AMD_PREFIXES) else "GenuineIntel"


def _flag_list(text: str | None) -> Flags:
    """``parse_cpuflag_list``: ``+name;-name`` (``;``-separated)."""
    flags: Flags = {}
    for item in (text or "").split(";"):
        if item and item[0] in "+-":
            flags[item[1:]] = (item[0], None)
    return flags


def _pve_flags(conf: dict[str, str], cputype: str, kvm: bool, arch: str) -> Flags:
    """``get_pve_cpu_flags`` for QEMU 10.1 and a machine of 2.3 or newer."""
    flags: Flags = {}
    if cputype == "kvm64" and arch == "x86_64":
        flags["lahf_lm"] = ("+", None)
    if conf.get("ostype") == "solaris":
        flags["x2apic"] = ("-", None)
    if cputype in ("kvm64", "kvm32"):
        flags["sep"] = ("+", None)
    if cputype.startswith("Opteron"):
        flags["rdtscp"] = ("-", None)
    if kvm and arch == "x86_64":
        flags["kvm_pv_unhalt"] = ("+", None)
        flags["kvm_pv_eoi"] = ("+", None)
    return flags


def _hyperv_flags(conf: dict[str, str], hv_vendor_id: str | None) -> Flags:
    """``get_hyperv_enlightenments`` (no GPU passthrough modelled)."""
    winversion = windows_version(conf.get("ostype"))
    if winversion < 6 or (conf.get("bios") == "ovmf" and winversion < 8):
        return {}
    flags: Flags = {}
    if hv_vendor_id is not None:
        flags["hv_vendor_id"] = ("", hv_vendor_id)
    flags["hv_spinlocks"] = ("", "0x1fff")
    for name in ("hv_vapic", "hv_time", "hv_reset", "hv_vpindex", "hv_runtime"):
        flags[name] = ("", None)
    if winversion >= 7:
        for name in ("hv_relaxed", "hv_synic", "hv_stimer", "hv_ipi"):
            flags[name] = ("", None)
    return flags


def cpu_at_start(conf: dict[str, str]) -> str:
    """``get_cpu_options``' ``-cpu`` value for a VM started now from ``conf``."""
    arch = conf.get("arch", "x86_64")
    kvm = conf.get("kvm", "1") != "0"
    # ``get_default_cpu_type``
    cputype = {("aarch64", True): "host", ("aarch64", False): "max"}.get(
        (arch, kvm), "kvm64" if kvm else "qemu64"
    )
    cpu = split_property_string(conf["cpu"], "cputype") if conf.get("cpu") else {}
    builtin: Flags = {}
    hidden = False
    if cpu:
        cputype = cpu.get("cputype", "kvm64")
        if cputype in BUILTIN_FLAGS and arch == "x86_64":
            builtin = _flag_list(BUILTIN_FLAGS[cputype])
            cputype = "qemu64"
        hidden = cpu.get("hidden") in ("1", "on", "yes", "true")
    resolved: Flags = {}
    resolved.update(_pve_flags(conf, cputype, kvm, arch))
    if kvm and arch == "x86_64":
        resolved.update(_hyperv_flags(conf, cpu.get("hv-vendor-id")))
    resolved.update(builtin)
    resolved.update(_flag_list(cpu.get("flags")))
    if cputype != "host" and kvm and arch == "x86_64":
        resolved["enforce"] = ("", None)
    if hidden and arch == "x86_64":
        resolved["kvm"] = ("", "off")
    if arch == "x86_64" and _vendor(cputype) != "default":
        resolved["vendor"] = ("", _vendor(cputype))
    text = cputype
    if cpu.get("level") and arch == "x86_64":
        text += f",level={cpu['level']}"
    for name in sorted(resolved):
        op, value = resolved[name]
        text += f",{op}{name}" + (f"={value}" if value else "")
    for option in ("guest-phys-bits", "phys-bits"):
        if cpu.get(option):
            text += ",host-phys-bits=true" if cpu[option] == "host" else f",{option}={cpu[option]}"
    return text
