"""What the every-GET walk (``tests/sim/test_every_get_path.py``) expects of each area.

One module per area of the API, each owning its part of the walk:

- ``SAMPLE_IDS``: per path template, the values for ids the simulator does not model (a
  firewall rule position, an SDN zone); the walk's defaults (``DEFAULT_IDS``) serve the rest.
- ``EXPECTED_ERRORS``: per path template, the ``(status, reason)`` real PVE answers on the
  simulator's cluster (an id that does not exist there, a feature not installed), each with the
  handler it comes from in a comment.
- ``NOT_JSON``: per path template, the content type of an answer that is not JSON (a PNG graph,
  a file download), which the walk checks instead of the ``returns`` schema.
- ``PARAMS``: per path template, query parameters to send beyond the required ones.
"""

from __future__ import annotations

from tests.sim.get_walk import cluster, node_system, sdn_access, storage_guest

AREAS = [node_system, storage_guest, cluster, sdn_access]


def _merged(name: str) -> dict:
    out: dict = {}
    for area in AREAS:
        part = getattr(area, name)
        clash = set(out) & set(part)
        assert not clash, f"{name}: two areas expect {sorted(clash)}"
        out.update(part)
    return out


SAMPLE_IDS: dict[str, dict[str, str]] = _merged("SAMPLE_IDS")
EXPECTED_ERRORS: dict[str, tuple[int, str]] = _merged("EXPECTED_ERRORS")
NOT_JSON: dict[str, str] = _merged("NOT_JSON")
PARAMS: dict[str, dict[str, str]] = _merged("PARAMS")
