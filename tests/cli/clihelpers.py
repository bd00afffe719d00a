"""What the operator-CLI tests share: running `solti` in-process and a fresh SSH key."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from solti.cli import main


def ssh_key(comment: str = "ops@example") -> str:
    """A new, valid OpenSSH ed25519 public key (provisioning checks keys before sending)."""
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    raw = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{raw.decode()} {comment}"


def solti(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
