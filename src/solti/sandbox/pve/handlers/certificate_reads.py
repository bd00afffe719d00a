"""The node's TLS certificates (``/nodes/{node}/certificates/info``), the ones it really serves.

pve-manager ``PVE/API2/Certificates.pm`` ``info`` reads ``/etc/pve/pve-root-ca.pem``,
``/etc/pve/nodes/<node>/pve-ssl.pem`` and ``pveproxy-ssl.pem`` (only with a custom or ACME
certificate, so absent on a fresh node) through pve-common ``PVE/Certificate.pm``
``get_certificate_info``: the SHA-256 ``fingerprint`` (colon-separated upper-case hex),
``subject`` and ``issuer`` in OpenSSL's one-line form (``X509_NAME_oneline``: ``/KEY=value``
per entry, in the certificate's order), ``notbefore``/``notafter`` as epochs, ``san`` (DNS
names as they are, IPv4 dotted, IPv6 as eight four-digit hex groups), ``pem``, the public
key's type (OpenSSL's short name) and size, and the file's name.

The simulator's CA plays the cluster's root CA and its HTTPS certificate the node's
``pve-ssl.pem`` (the same one on every node, as one server answers for all of them).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from solti.sandbox.pve.handlers import Call, Handler

# OpenSSL short names of the attribute types (``OBJ_nid2sn``) X509_NAME_oneline prints.
SHORT_NAMES = {
    "commonName": "CN", "countryName": "C", "localityName": "L", "stateOrProvinceName": "ST",
    "organizationName": "O", "organizationalUnitName": "OU", "emailAddress": "emailAddress",
}  # fmt: skip


def oneline(name: x509.Name) -> str:
    """``X509_NAME_oneline``: ``/O=.../OU=.../CN=...`` in the DER order of the entries."""
    parts = []
    for rdn in name.rdns:
        for attr in rdn:
            key = attr.oid._name
            value = attr.value if isinstance(attr.value, str) else attr.value.decode()
            parts.append(f"/{SHORT_NAMES.get(key, key)}={value}")
    return "".join(parts)


def _san(cert: x509.Certificate) -> list[str]:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    out: list[str] = []
    for entry in names:
        if isinstance(entry, x509.DNSName):
            out.append(entry.value)
        elif isinstance(entry, x509.IPAddress) and isinstance(entry.value, ipaddress.IPv6Address):
            out.append(entry.value.exploded)  # unpack("H4" x 8): every group four digits
        elif isinstance(entry, x509.IPAddress):
            out.append(str(entry.value))
    return out


def _key(cert: x509.Certificate) -> tuple[str, int]:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "rsaEncryption", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "id-ecPublicKey", key.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ED25519", 253
    if isinstance(key, ed448.Ed448PublicKey):
        return "ED448", 456
    return "UNDEF", 0


def fingerprint(pem: bytes) -> str:
    """The certificate's SHA-256 fingerprint as PVE prints it (``AA:BB:...``)."""
    digest = x509.load_pem_x509_certificate(pem).fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def certificate_info(pem: bytes, filename: str) -> dict[str, Any]:
    """``get_certificate_info`` of one PEM file."""
    cert = x509.load_pem_x509_certificate(pem)
    key_type, key_bits = _key(cert)
    return {
        "fingerprint": fingerprint(pem),
        "subject": oneline(cert.subject),
        "issuer": oneline(cert.issuer),
        "notbefore": int(cert.not_valid_before_utc.timestamp()),
        "notafter": int(cert.not_valid_after_utc.timestamp()),
        "san": _san(cert),
        "pem": cert.public_bytes(Encoding.PEM).decode(),
        "public-key-type": key_type,
        "public-key-bits": key_bits,
        "filename": filename,
    }


def certificates_info(call: Call) -> list[dict[str, Any]]:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        pems = cluster.certificate_pems
    if pems is None:
        return []
    root_ca, node_cert = pems
    return [
        certificate_info(root_ca, "pve-root-ca.pem"),
        certificate_info(node_cert, "pve-ssl.pem"),
    ]


CERTIFICATE_READS: dict[str, Handler] = {"/nodes/{node}/certificates/info": certificates_info}
