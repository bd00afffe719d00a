"""Cloud-init parameters exactly as Proxmox VE wants them, checked before anything is sent.

PVE validates ``sshkeys`` only after a VM exists (and then fails the whole update), so keys are
parsed here first: a bad key is refused with a message naming which key and what is wrong.
``sshkeys`` must be percent-encoded by the client with ``quote(..., safe="")``; ``quote_plus``
turns spaces into ``+`` and PVE rejects it (pve-semantics.md §7).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
import struct
from dataclasses import dataclass
from urllib.parse import quote, unquote

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

from solti.provisioning.errors import InvalidRequest

__all__ = [
    "SshKey",
    "cloudinit_params",
    "decode_sshkeys",
    "encode_sshkeys",
    "fingerprint",
    "ipconfig",
    "parse_ssh_key",
    "validate_nameservers",
    "validate_searchdomain",
    "validate_ssh_keys",
    "validate_user",
]

_STANDARD_TYPES = {
    "ssh-rsa",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
}
_SK_TYPES = {"sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"}
ALLOWED_TYPES = tuple(sorted(_STANDARD_TYPES | _SK_TYPES))
MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class SshKey:
    """One OpenSSH public key, normalised to ``type base64 [comment]`` on a single line."""

    type: str
    blob: bytes
    comment: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.blob)

    @property
    def line(self) -> str:
        text = f"{self.type} {base64.b64encode(self.blob).decode()}"
        return f"{text} {self.comment}" if self.comment else text

    @property
    def label(self) -> str:
        """How to name the key to a person: its comment, else a fingerprint prefix."""
        return self.comment or self.fingerprint[:19]


def fingerprint(blob: bytes) -> str:
    """``SHA256:...`` as ``ssh-keygen -l`` prints it."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def _read_string(blob: bytes, offset: int) -> tuple[bytes, int]:
    if offset + 4 > len(blob):
        raise ValueError("truncated key data")
    (length,) = struct.unpack(">I", blob[offset : offset + 4])
    end = offset + 4 + length
    if end > len(blob):
        raise ValueError("truncated key data")
    return blob[offset + 4 : end], end


def _check_security_key(key_type: str, blob: bytes) -> None:
    """Structural check of FIDO (sk-*) keys, which cryptography cannot load."""
    embedded, offset = _read_string(blob, 0)
    if embedded.decode(errors="replace") != key_type:
        raise ValueError(f"the key data says {embedded.decode(errors='replace')!r}, not {key_type}")
    if key_type.startswith("sk-ssh-ed25519"):
        point, offset = _read_string(blob, offset)
        if len(point) != 32:
            raise ValueError("an ed25519 public key is 32 bytes")
    else:
        curve, offset = _read_string(blob, offset)
        if curve != b"nistp256":
            raise ValueError("the curve must be nistp256")
        point, offset = _read_string(blob, offset)
        if len(point) != 65 or point[0] != 4:
            raise ValueError("the curve point must be 65 bytes, uncompressed")
    application, offset = _read_string(blob, offset)
    if not application.startswith(b"ssh:"):
        raise ValueError("the application must start with 'ssh:'")
    if offset != len(blob):
        raise ValueError("trailing bytes after the key data")


def parse_ssh_key(text: str, position: int | None = None) -> SshKey:
    """Parse one public key line; ``position`` (1-based) names the key in errors."""
    where = f"ssh_keys[{position - 1}]" if position else "ssh_keys"
    parts = text.strip().split(None, 2)
    shown = parts[2] if len(parts) == 3 else (text.strip()[:24] + "..." if text.strip() else "")
    name = f"key {position}" if position else "key"
    name += f" ({shown})" if shown else ""
    if len(parts) < 2:
        raise InvalidRequest(
            f"{name} is not an OpenSSH public key; expected 'TYPE BASE64 [COMMENT]', "
            "e.g. the contents of ~/.ssh/id_ed25519.pub",
            field=where,
        )
    key_type, data = parts[0], parts[1]
    comment = parts[2].strip() if len(parts) == 3 else ""
    if key_type not in _STANDARD_TYPES | _SK_TYPES:
        hint = " (a private key? paste the .pub file)" if "PRIVATE" in text else ""
        raise InvalidRequest(
            f"{name}: type {key_type[:40]!r} is not accepted{hint}; use one of "
            + ", ".join(ALLOWED_TYPES),
            field=where,
        )
    try:
        blob = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(f"{name}: the key data is not valid base64", field=where) from None
    key = SshKey(key_type, blob, comment)
    name = f"key {position} ({key.label})" if position else f"key ({key.label})"
    try:
        if key_type in _SK_TYPES:
            _check_security_key(key_type, blob)
        else:
            loaded = load_ssh_public_key(f"{key_type} {data}".encode())
            if isinstance(loaded, rsa.RSAPublicKey) and loaded.key_size < MIN_RSA_BITS:
                raise ValueError(
                    f"RSA key has {loaded.key_size} bits; at least {MIN_RSA_BITS} are needed"
                )
    except (ValueError, TypeError) as exc:
        detail = str(exc) or "the key data is damaged"
        raise InvalidRequest(
            f"{name} is not a valid {key_type} key: {detail}", field=where
        ) from None
    return key


def validate_ssh_keys(keys: list[str]) -> list[SshKey]:
    """Parse every key (one per line; blank lines ignored), dropping exact duplicates."""
    lines = [line for entry in keys for line in entry.splitlines() if line.strip()]
    seen: dict[bytes, SshKey] = {}
    for index, line in enumerate(lines, start=1):
        key = parse_ssh_key(line, index)
        seen.setdefault(key.blob, key)
    return list(seen.values())


def encode_sshkeys(keys: list[str]) -> str:
    """The ``sshkeys`` value PVE accepts: newline-joined, percent-encoded with ``safe=""``."""
    return quote("\n".join(k.strip() for k in keys), safe="")


def decode_sshkeys(value: str) -> list[str]:
    """Read back ``sshkeys`` from a GET config (PVE stores it still encoded)."""
    return [line for line in unquote(value).splitlines() if line.strip()]


def ipconfig(ip: str | None = None, gw: str | None = None) -> str:
    """``ip=dhcp`` or ``ip=10.0.0.5/24,gw=10.0.0.1``; the gateway must be inside the network."""
    if ip is None or ip.strip().lower() == "dhcp":
        if gw:
            raise InvalidRequest("a gateway needs a static ip (--ip CIDR)", field="gw")
        return "ip=dhcp"
    if "/" not in ip:
        raise InvalidRequest(f"{ip!r} needs a prefix length; use CIDR, e.g. {ip}/24", field="ip")
    try:
        interface = ipaddress.IPv4Interface(ip.strip())
    except ValueError:
        raise InvalidRequest(
            f"{ip!r} is not an IPv4 address in CIDR form, e.g. 10.0.0.5/24", field="ip"
        ) from None
    network = interface.network
    if interface.network.prefixlen < 8:
        raise InvalidRequest(f"{ip!r}: the prefix must be /8 to /32", field="ip")
    if network.prefixlen < 31 and interface.ip in (
        network.network_address,
        network.broadcast_address,
    ):
        raise InvalidRequest(f"{ip!r} is the network or broadcast address", field="ip")
    if not gw:
        raise InvalidRequest(
            f"a static ip needs a gateway in {network} (--gw), e.g. {next(network.hosts(), '')}",
            field="gw",
        )
    try:
        gateway = ipaddress.IPv4Address(gw.strip())
    except ValueError:
        raise InvalidRequest(f"{gw!r} is not an IPv4 address", field="gw") from None
    if gateway == interface.ip:
        raise InvalidRequest(f"{gw} is the VM's own address", field="gw")
    if network.prefixlen < 32 and gateway not in network:
        raise InvalidRequest(f"{gw} is not inside {network}", field="gw")
    return f"ip={interface.with_prefixlen},gw={gateway}"


_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


def validate_user(user: str) -> str:
    """A cloud-init user name a Linux system accepts."""
    if not _USER.match(user or ""):
        raise InvalidRequest(
            f"{user!r} is not a user name; use lower-case letters, digits, '_' and '-', "
            "starting with a letter or '_', at most 32 characters",
            field="user",
        )
    return user


def validate_nameservers(value: str) -> str:
    """One or more IP addresses (space or comma separated), as PVE's space-separated list."""
    addresses = [part for part in re.split(r"[\s,;]+", value.strip()) if part]
    if not addresses:
        raise InvalidRequest("no name server given; use an IP address", field="nameserver")
    try:
        return " ".join(str(ipaddress.ip_address(a)) for a in addresses)
    except ValueError:
        raise InvalidRequest(
            f"{value!r} is not a list of IP addresses", field="nameserver"
        ) from None


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?)+$", re.IGNORECASE)


def validate_searchdomain(value: str) -> str:
    """One or more DNS domains, space separated."""
    domains = [part for part in re.split(r"[\s,;]+", value.strip()) if part]
    bad = [d for d in domains if not _DOMAIN.match(d)]
    if not domains or bad:
        raise InvalidRequest(
            f"{value!r} is not a DNS domain, e.g. example.com", field="searchdomain"
        )
    return " ".join(domains)


def cloudinit_params(
    user: str,
    keys: list[str],
    ip: str | None = None,
    gw: str | None = None,
    nameserver: str | None = None,
    searchdomain: str | None = None,
) -> dict[str, str]:
    """The PVE config parameters for a VM's cloud-init drive; raises before anything is sent."""
    parsed = validate_ssh_keys(keys)
    if not parsed:
        raise InvalidRequest(
            "no SSH public key given; passwordless login needs one "
            "(Slack: /solti key set KEY, CLI: --ssh-key KEY)",
            field="ssh_keys",
        )
    params = {
        "ciuser": validate_user(user),
        "sshkeys": encode_sshkeys([k.line for k in parsed]),
        "ipconfig0": ipconfig(ip, gw),
    }
    if nameserver:
        params["nameserver"] = validate_nameservers(nameserver)
    if searchdomain:
        params["searchdomain"] = validate_searchdomain(searchdomain)
    return params
