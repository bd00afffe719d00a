"""The API token's privileges, as ``/access/permissions`` reports and the routes enforce them.

The simulator has one token (``root@pam!solti``); by default it holds every privilege on
``/``. Tests take some away to prove that clients (``solti check``) notice. The other caller
is root@pam with a ticket, who holds every privilege everywhere (pve-access-control
``RPCEnvironment.pm`` ``permissions``: ``return $self->{user_cfg}->... if $user eq
'root@pam'`` -> all privileges): while a request of root's runs (``acting_for``), every
check made in a method's own code (list filters, fields for auditors) sees that, not the
token's ACL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from solti.sandbox.pve.api_errors import PveError

ALL_PRIVILEGES = [
    "Datastore.Allocate",
    "Datastore.AllocateSpace",
    "Datastore.AllocateTemplate",
    "Datastore.Audit",
    "Group.Allocate",
    "Mapping.Audit",
    "Mapping.Modify",
    "Mapping.Use",
    "Permissions.Modify",
    "Pool.Allocate",
    "Pool.Audit",
    "Realm.Allocate",
    "Realm.AllocateUser",
    "SDN.Allocate",
    "SDN.Audit",
    "SDN.Use",
    "Sys.AccessNetwork",
    "Sys.Audit",
    "Sys.Console",
    "Sys.Incoming",
    "Sys.Modify",
    "Sys.PowerMgmt",
    "Sys.Syslog",
    "User.Modify",
    "VM.Allocate",
    "VM.Audit",
    "VM.Backup",
    "VM.Clone",
    "VM.Config.CDROM",
    "VM.Config.CPU",
    "VM.Config.Cloudinit",
    "VM.Config.Disk",
    "VM.Config.HWType",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.Console",
    "VM.GuestAgent.Audit",
    "VM.GuestAgent.FileRead",
    "VM.GuestAgent.FileSystemMgmt",
    "VM.GuestAgent.FileWrite",
    "VM.GuestAgent.Unrestricted",
    "VM.Migrate",
    "VM.PowerMgmt",
    "VM.Replicate",
    "VM.Snapshot",
    "VM.Snapshot.Rollback",
]


# Whether the request running on this thread is root@pam's (a ticket): set per request by
# ``Access.acting_for``, so concurrent requests of the token and of root do not mix.
_ROOT_CALLER: ContextVar[bool] = ContextVar("pve_sim_root_caller", default=False)
ROOT = "root@pam"


class Access:
    """ACL paths to ``{privilege: propagate}`` for the token."""

    def __init__(self) -> None:
        self._acl: dict[str, dict[str, int]] = {"/": dict.fromkeys(ALL_PRIVILEGES, 1)}

    def replace_acl(self, acl: dict[str, Any]) -> None:
        """The token's whole ACL from JSON: ``{path: [privileges]}`` (all propagate) or
        ``{path: {privilege: propagate}}``; unknown privilege names are refused."""
        if not isinstance(acl, dict) or not acl:
            raise ValueError("token privileges: expected an object {path: privileges}")
        new: dict[str, dict[str, int]] = {}
        for path, privileges in acl.items():
            if not isinstance(path, str) or not path.startswith("/"):
                raise ValueError(f"token privileges: {path!r} is not an ACL path")
            entry = privileges if isinstance(privileges, dict) else dict.fromkeys(privileges, 1)
            unknown = sorted(set(entry) - set(ALL_PRIVILEGES))
            if unknown:
                raise ValueError(f"token privileges: unknown privilege {unknown[0]!r} on {path}")
            new[path] = {name: int(bool(flag)) for name, flag in entry.items()}
        self._acl = new

    def set_token_privileges(self, path: str, privileges: dict[str, int]) -> None:
        """Replace the privileges the token has on ``path`` (tests of ``solti check``)."""
        self._acl[path] = dict(privileges)

    def revoke_token_privileges(self, path: str, *names: str) -> None:
        """Take ``names`` away from what the token has on ``path``; the rest stays."""
        kept = {n: v for n, v in self._acl.get(path, {}).items() if n not in names}
        self.set_token_privileges(path, kept)

    @contextmanager
    def acting_for(self, user: str | None, tokenid: str | None) -> Iterator[None]:
        """Checks inside this block are those of the caller: root@pam by ticket holds every
        privilege, a token (or nobody) what the token's ACL gives."""
        mark = _ROOT_CALLER.set(user == ROOT and not tokenid)
        try:
            yield
        finally:
            _ROOT_CALLER.reset(mark)

    @contextmanager
    def token_view(self) -> Iterator[None]:
        """The token's own privileges, whoever asks (``/access/permissions?userid=<token>``)."""
        mark = _ROOT_CALLER.set(False)
        try:
            yield
        finally:
            _ROOT_CALLER.reset(mark)

    def stored_acl(self) -> dict[str, dict[str, int]]:
        """The token's ACL entries as configured (``/access/acl`` lists them for anyone)."""
        return {p: dict(v) for p, v in self._acl.items()}

    def permissions_for(self, path: str | None) -> dict[str, dict[str, int]]:
        """The caller's privileges: every ACL path, or the effective set on one ``path``.

        The nearest configured ancestor decides; on a proper ancestor only privileges with
        propagate ``1`` count, as with PVE ACLs. root@pam (``acting_for``) holds all of them
        on ``/``.
        """
        if _ROOT_CALLER.get():
            return {path or "/": dict.fromkeys(ALL_PRIVILEGES, 1)}
        if path is None:
            return {p: dict(v) for p, v in self._acl.items()}
        best = max(
            (p for p in self._acl if path == p or path.startswith(p.rstrip("/") + "/")),
            key=len,
            default=None,
        )
        if best is None:
            return {path: {}}
        privileges = self._acl[best]
        if best != path:
            privileges = {k: v for k, v in privileges.items() if v}
        return {path: dict(privileges)}

    def check_pool_exist(self, pool: str) -> None:
        """pve-access-control ``RPCEnvironment.pm`` ``check_pool_exist``: the simulator has no
        pools (user.cfg has none), so any pool is refused with ``raise_perm_exc``."""
        raise PveError(403, f"Permission check failed (pool '{pool}' does not exist)")

    def has(self, path: str, privilege: str) -> bool:
        """Whether the token holds ``privilege`` on ``path`` (``$rpcenv->check(..., 1)``)."""
        return privilege in self.permissions_for(path)[path]

    def may_see_bridge(self, path: str) -> bool:
        """pve-access-control ``RPCEnvironment.pm`` ``check_sdn_bridge`` with ``SDN.Audit`` or
        ``SDN.Use``: on the bridge itself or on any VLAN below it that has an ACL."""
        wanted = {"SDN.Audit", "SDN.Use"}
        paths = [path] + [p for p in self._acl if p.startswith(path + "/")]
        return any(wanted & set(self.permissions_for(p)[p]) for p in paths)

    def check_privileges(self, path: str, privileges: list[str]) -> None:
        """403 unless the token holds one of ``privileges`` on ``path``."""
        held = self.permissions_for(path)[path]
        if not any(p in held for p in privileges):
            raise PveError(403, f"Permission check failed ({path}, {'|'.join(privileges)})")
