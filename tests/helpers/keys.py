"""Fresh SSH public keys for tests, written once.

Provisioning checks every key's structure before sending it to Proxmox, and the simulator
checks it again as PVE does, so tests need real keys: new ones, never a checked-in secret.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def openssh_line(private: PrivateKey, comment: str = "") -> str:
    """The ``authorized_keys`` line of ``private``'s public key (``type base64 [comment]``)."""
    raw = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return f"{raw.decode()} {comment}".strip()


def new_ssh_key(comment: str = "alice@example") -> str:
    """A new, valid OpenSSH ed25519 public key line with ``comment``."""
    return openssh_line(ed25519.Ed25519PrivateKey.generate(), comment)
