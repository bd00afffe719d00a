"""RRD graphs (``.../rrd``) as ``/api2/json`` answers them: the PNG inside a JSON object.

- qemu-server ``PVE/API2/Qemu.pm`` ``rrd`` and pve-container ``src/PVE/API2/LXC.pm`` ``rrd``
  draw ``pve-vm-9.0/<vmid>`` (one RRD file per VMID, whatever the guest's kind); pve-storage
  ``src/PVE/API2/Storage/Status.pm`` ``rrd`` draws the legacy ``pve2-storage/<node>/<id>``.
- pve-cluster ``src/PVE/RRD.pm`` ``create_rrd_graph``: the file name is
  ``/var/lib/rrdcached/db/<rrdname>_<ds joined by _>.png``; each data source gets a colour
  (``#00ddff``, ``#ff0000``; a third dies "fixme: no color definition"), ``cpu`` and
  ``iowait`` are drawn times 100, the graph is 800x200 from 0 up; the answer is
  ``{filename, image}``. pve-http-server ``Formatter/Standard.pm`` turns ``image`` into the
  body only for ``/api2/png``; ``/api2/json`` sends both keys, the PNG bytes as a string.
- ``RRDs::graphv`` talks to rrdcached (``--daemon unix:/var/run/rrdcached.sock``); rrdtool
  1.7 ``src/rrd_client.c`` ``get_path`` resolves the file's directory first
  ("realpath(<file>): <error>") and ``rrd_daemon.c`` ``handle_request_fetch`` reports a
  missing file as "rrd_fetch_r failed: opening '<file>': No such file or directory", which
  ``response_read`` prefixes with "rrdcached@<address>: ". ``RRD.pm`` dies "RRD error: ...".
- pve-cluster ``src/pmxcfs/status.c`` ``update_rrd_data`` writes storage figures, of either
  key format, only to ``pve-storage-9.0/``: a 9.x node never has the ``pve2-storage``
  directory, so the storage graph always fails at ``realpath``. pvestatd reports every VM of
  the node, so each VM the simulator holds has its file.

The simulator keeps no history, and draws the PNG itself: each data source one flat line at
its current figure (as ``rrd_reads`` rows carry), scaled from 0 to the largest figure, on a
white canvas. rrdtool's axes, grid and legend are not drawn.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any, NoReturn

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers.rrd_reads import vm_rrddata

RRD_DIR = "/var/lib/rrdcached/db"
DAEMON = "unix:/var/run/rrdcached.sock"
COLOURS = [(0x00, 0xDD, 0xFF), (0xFF, 0x00, 0x00)]
NO_COLOUR = "fixme: no color definition at /usr/share/perl5/PVE/RRD.pm line 206.\n"
WIDTH, HEIGHT = 800, 200


def png(width: int, height: int, lines: list[tuple[float, tuple[int, int, int]]]) -> bytes:
    """An RGB PNG, white, with one 2-pixel horizontal line per ``(fraction, colour)``."""
    rows = [bytearray(b"\xff" * (3 * width)) for _ in range(height)]
    for fraction, colour in lines:
        y = min(height - 2, max(0, round((1 - fraction) * (height - 2))))
        for row in rows[y : y + 2]:
            row[:] = bytes(colour) * width
    raw = b"".join(b"\x00" + bytes(row) for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def graph(rrdname: str, ds: str, figures: dict[str, Any]) -> dict[str, str]:
    """``create_rrd_graph`` over ``figures`` (the file's data sources and their values)."""
    ids = [part for part in ds.replace(";", ",").replace(" ", ",").split(",") if part]
    path = f"{RRD_DIR}/{rrdname}"
    if len(ids) > len(COLOURS):  # the colours are handed out before rrdtool runs
        raise PveError(500, NO_COLOUR)
    values = []
    for name in ids:
        if name not in figures:
            raise PveError(500, f"RRD error: No DS called '{name}' in '{path}'\n")
        scale = 100 if name in ("cpu", "iowait") else 1
        values.append(float(figures[name]) * scale)
    top = max(values, default=0) or 1
    image = png(WIDTH, HEIGHT, [(v / top, COLOURS[i]) for i, v in enumerate(values)])
    return {"filename": f"{path}_{'_'.join(ids)}.png", "image": image.decode("latin-1")}


def vm_graph(call: Call) -> dict[str, str]:
    rrdname = f"pve-vm-9.0/{call.vmid}"
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
        known = call.vmid in cluster.guests
    if not known:
        missing = f"{RRD_DIR}/{rrdname}"
        raise PveError(
            500,
            f"RRD error: rrdcached@{DAEMON}: rrd_fetch_r failed: opening '{missing}': "
            "No such file or directory\n",
        )
    rows = vm_rrddata(_as_node_of_guest(call))
    figures = {k: v for k, v in rows[-1].items() if k != "time"}
    return graph(rrdname, call.params["ds"], figures)


def _as_node_of_guest(call: Call) -> Call:
    """The RRD file is the cluster's, so read the figures on the node that runs the guest."""
    with call.cluster() as cluster:
        node = cluster.guests[call.vmid].node
    params = {**call.params, "node": node}
    return Call(params, call.identity, call.model, call.lock, call.now, call.auth)


def storage_graph(call: Call) -> NoReturn:
    with call.cluster() as cluster:
        cluster.nodes.require(call.node)
    path = f"{RRD_DIR}/pve2-storage/{call.node}/{call.params['storage']}"
    raise PveError(500, f"RRD error: realpath({path}): No such file or directory\n")


GRAPH_READS: dict[str, Handler] = {
    "/nodes/{node}/qemu/{vmid}/rrd": vm_graph,
    "/nodes/{node}/lxc/{vmid}/rrd": vm_graph,
    "/nodes/{node}/storage/{storage}/rrd": storage_graph,
}
