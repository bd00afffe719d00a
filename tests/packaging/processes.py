"""What the process-level packaging tests share: a free port and the image's HEALTHCHECK."""

from __future__ import annotations

import re
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthcheck_code() -> str:
    """The Python one-liner of the Dockerfile's HEALTHCHECK, run as the image would run it."""
    text = (ROOT / "Dockerfile").read_text()
    match = re.search(r'CMD \["python", "-c", "(.+)"\]', text.split("HEALTHCHECK", 1)[1])
    assert match
    return match.group(1)
