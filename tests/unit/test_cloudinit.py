"""Cloud-init parameters: SSH keys checked and encoded as PVE wants, network config validated."""

from __future__ import annotations

import base64
import struct
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from solti.provisioning.cloudinit import (
    cloudinit_params,
    decode_sshkeys,
    encode_sshkeys,
    fingerprint,
    ipconfig,
    parse_ssh_key,
    validate_nameservers,
    validate_searchdomain,
    validate_ssh_keys,
    validate_user,
)
from solti.provisioning.errors import InvalidRequest
from tests.helpers.keys import new_ssh_key, openssh_line


@pytest.fixture(scope="module")
def ed_key() -> str:
    return new_ssh_key("alice@laptop")


@pytest.fixture(scope="module")
def rsa_key() -> str:
    return openssh_line(
        rsa.generate_private_key(public_exponent=65537, key_size=2048), "bob+ci@host"
    )


@pytest.fixture(scope="module")
def ecdsa_key() -> str:
    return openssh_line(ec.generate_private_key(ec.SECP384R1()))


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _sk_ed25519(app: bytes = b"ssh:", point: bytes = b"\x01" * 32) -> str:
    kind = b"sk-ssh-ed25519@openssh.com"
    blob = _string(kind) + _string(point) + _string(app)
    return f"{kind.decode()} {base64.b64encode(blob).decode()} yubikey"


def _sk_ecdsa() -> str:
    kind = b"sk-ecdsa-sha2-nistp256@openssh.com"
    point = b"\x04" + b"\x02" * 64
    blob = _string(kind) + _string(b"nistp256") + _string(point) + _string(b"ssh:")
    return f"{kind.decode()} {base64.b64encode(blob).decode()}"


def test_standard_keys_parse(ed_key: str, rsa_key: str, ecdsa_key: str) -> None:
    for text in (ed_key, rsa_key, ecdsa_key):
        key = parse_ssh_key(text)
        assert key.line == text
        assert key.fingerprint.startswith("SHA256:")
        assert "=" not in key.fingerprint


def test_security_keys_pass_the_structural_check() -> None:
    assert parse_ssh_key(_sk_ed25519()).type == "sk-ssh-ed25519@openssh.com"
    assert parse_ssh_key(_sk_ecdsa()).comment == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not an OpenSSH public key"),
        ("AAAAC3NzaC1lZDI1NTE5", "not an OpenSSH public key"),
        ("ssh-dss AAAAB3NzaC1kc3M= old", "type 'ssh-dss' is not accepted"),
        ("-----BEGIN OPENSSH PRIVATE KEY----- abc", "a private key"),
        ("ssh-ed25519 !!!notbase64 carol", r"key \(carol\): the key data is not valid base64"),
        ("ssh-ed25519 AAAAB3NzaC1yc2E= dave", r"dave\) is not a valid ssh-ed25519 key"),
        (_sk_ed25519(app=b"web:"), "application must start with 'ssh:'"),
        (_sk_ed25519(point=b"\x01" * 31), "32 bytes"),
    ],
)
def test_bad_keys_say_which_and_why(text: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message) as info:
        parse_ssh_key(text)
    assert info.value.field == "ssh_keys"


def test_short_rsa_key_is_refused() -> None:
    weak = openssh_line(rsa.generate_private_key(public_exponent=65537, key_size=1024), "weak")
    with pytest.raises(InvalidRequest, match="1024 bits; at least 2048"):
        parse_ssh_key(weak)


def test_type_mismatch_is_refused(ed_key: str, rsa_key: str) -> None:
    ed_data = ed_key.split()[1]
    with pytest.raises(InvalidRequest, match="not a valid ssh-rsa key"):
        parse_ssh_key(f"ssh-rsa {ed_data} mixed")


def test_validate_many_names_the_position(ed_key: str, rsa_key: str) -> None:
    with pytest.raises(InvalidRequest, match=r"key 2 \(x\)") as info:
        validate_ssh_keys([ed_key, "ssh-rsa AAAA x"])
    assert info.value.field == "ssh_keys[1]"


def test_validate_splits_lines_and_drops_duplicates(ed_key: str, rsa_key: str) -> None:
    keys = validate_ssh_keys([f"{ed_key}\n\n{rsa_key}\n", ed_key])
    assert [k.line for k in keys] == [ed_key, rsa_key]


def test_encode_sshkeys_is_quote_not_quote_plus(ed_key: str, rsa_key: str) -> None:
    encoded = encode_sshkeys([ed_key, rsa_key])
    assert "+" not in encoded and " " not in encoded and "\n" not in encoded
    assert "%20" in encoded and "%0A" in encoded and "%40" in encoded
    assert unquote(encoded) == f"{ed_key}\n{rsa_key}"
    assert decode_sshkeys(encoded) == [ed_key, rsa_key]
    # the value PVE's urlencoded format accepts after form-decoding
    assert all(c.isalnum() or c in "-%_.!~*'()" for c in encoded)


def test_fingerprint_matches_ssh_keygen_format() -> None:
    assert fingerprint(b"") == "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"


@pytest.mark.parametrize(
    ("ip", "gw", "expected"),
    [
        (None, None, "ip=dhcp"),
        ("dhcp", None, "ip=dhcp"),
        ("10.0.0.5/24", "10.0.0.1", "ip=10.0.0.5/24,gw=10.0.0.1"),
        ("192.168.1.10/16", "192.168.200.1", "ip=192.168.1.10/16,gw=192.168.200.1"),
        ("10.0.0.5/32", "10.0.0.1", "ip=10.0.0.5/32,gw=10.0.0.1"),
    ],
)
def test_ipconfig(ip: str | None, gw: str | None, expected: str) -> None:
    assert ipconfig(ip, gw) == expected


@pytest.mark.parametrize(
    ("ip", "gw", "field", "message"),
    [
        (None, "10.0.0.1", "gw", "needs a static ip"),
        ("10.0.0.5", "10.0.0.1", "ip", "needs a prefix length"),
        ("10.0.0.300/24", "10.0.0.1", "ip", "not an IPv4 address in CIDR"),
        ("10.0.0.5/4", "10.0.0.1", "ip", "/8 to /32"),
        ("10.0.0.0/24", "10.0.0.1", "ip", "network or broadcast"),
        ("10.0.0.5/24", None, "gw", r"needs a gateway in 10\.0\.0\.0/24"),
        ("10.0.0.5/24", "10.0.1.1", "gw", "not inside 10.0.0.0/24"),
        ("10.0.0.5/24", "10.0.0.5", "gw", "own address"),
        ("10.0.0.5/24", "gateway", "gw", "not an IPv4 address"),
    ],
)
def test_ipconfig_errors(ip: str | None, gw: str | None, field: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message) as info:
        ipconfig(ip, gw)
    assert info.value.field == field


def test_small_validators() -> None:
    assert validate_user("cloud-user") == "cloud-user"
    assert validate_nameservers("1.1.1.1, 9.9.9.9") == "1.1.1.1 9.9.9.9"
    assert validate_searchdomain("example.com lab.local") == "example.com lab.local"
    for bad_user in ("Root", "1abc", "a b", "x" * 33):
        with pytest.raises(InvalidRequest, match="not a user name"):
            validate_user(bad_user)
    with pytest.raises(InvalidRequest, match="not a list of IP"):
        validate_nameservers("dns.example")
    with pytest.raises(InvalidRequest, match="not a DNS domain"):
        validate_searchdomain("bad_domain!")


def test_cloudinit_params(ed_key: str) -> None:
    params = cloudinit_params(
        "rocky", [ed_key], "10.0.0.5/24", "10.0.0.1", "1.1.1.1", "example.com"
    )
    assert params == {
        "ciuser": "rocky",
        "sshkeys": encode_sshkeys([ed_key]),
        "ipconfig0": "ip=10.0.0.5/24,gw=10.0.0.1",
        "nameserver": "1.1.1.1",
        "searchdomain": "example.com",
    }
    assert cloudinit_params("debian", [ed_key])["ipconfig0"] == "ip=dhcp"
    assert set(cloudinit_params("debian", [ed_key])) == {"ciuser", "sshkeys", "ipconfig0"}


def test_cloudinit_params_refuses_no_key() -> None:
    with pytest.raises(InvalidRequest, match=r"no SSH public key.*key set") as info:
        cloudinit_params("rocky", [])
    assert info.value.field == "ssh_keys"
