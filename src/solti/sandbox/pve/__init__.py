"""A faithful Proxmox VE 9.1 API simulator over loopback HTTPS.

Where things live: ``state/`` the cluster model (pure; ``records`` the data records, then one
part per piece of state: ``nodes``, ``tasks``, ``storages``, ``guests``, ``network``,
``access``; operations that own none: ``configs``, ``lifecycle``, ``power``, ``downloads``,
``seed``; ``cluster`` composes them), ``handlers/`` thin endpoint code, ``routes.py`` the table and
the token privilege checks, ``schema.py`` validation, ``auth.py`` tokens and tickets,
``faults.py`` fault rules, ``clock.py`` real/manual time, ``http.py`` the wire and
``server.py`` the :class:`PveSimulator` tests start.

Deliberate simplifications (each one is on the safe side for a client):

- ``/cluster/resources`` lists a VM created or cloned less than ``state.rrd_lag`` seconds
  ago (10 s, on the simulator clock) bare, as real PVE does until pvestatd's RRD cache knows
  it: ``status: unknown``, no ``name``/``template``/sizes, live ``tags``/``lock`` only. Real PVE
  refreshes every ~10 s, so its lag is anywhere in 0-10 s; ``state.rrd_lag = 0`` turns it off.
  Seeded VMs are known at once; a template flag set later is seen at once.
- ``PUT``/``POST .../config`` apply at once, also on running VMs (no ``pending`` section);
  ``POST`` reports through a ``qmconfig`` task that always ends ``OK``.
- Task work runs when the task's planned end time has passed, on the next request; a
  task's log has lines only once it stopped.
- Tickets are signed with an HMAC, not RSA; their shape and lifetime (2 h) match PVE.
- download-url fetches loopback URLs only (anything else fails the task).
- Privileges are enforced for API tokens on the qemu/storage endpoints (403 with PVE's text);
  ``state.set_token_privileges(path, {priv: 1})`` changes them (``0`` = does not propagate).
"""

from solti.sandbox.pve.simulator import PveSimulator

__all__ = ["PveSimulator"]
