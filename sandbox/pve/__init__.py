"""A faithful Proxmox VE 9.1 API simulator over loopback HTTPS.

Where things live: ``state/`` the cluster model (pure), ``handlers/`` thin endpoint code,
``routes.py`` the table, ``schema.py`` validation, ``auth.py`` tokens and tickets,
``faults.py`` fault rules, ``http.py`` the wire and ``server.py`` the object tests start.
"""

from sandbox.pve.server import PveSimulator

__all__ = ["PveSimulator"]
