"""Access-control item reads: users, tokens, TFA, groups, realms, the ACL, pools, the ticket dummy.

The simulator's user.cfg holds what a fresh install has (``root@pam``, enabled, no expiry; the
installer's e-mail address is not modelled) plus the simulator's API token of root, whose
privileges (``state/access.py``) are a token ACL with privilege separation. Nothing creates
groups, pools, TFA entries or further realms, so items of those answer each handler's error.
Each method's ``permissions`` are checked before its handler runs, as for every GET
(``api_permissions``); the handlers answer as:

- pve-access-control ``src/PVE/API2/User.pm`` ``read_user`` (``$extract_user_data`` with
  ``full``: ``groups`` and the ``tokens`` hash), ``read_user_tfa_type`` (no realm TFA on
  ``pam``/``pve``, no user TFA: ``{}``), ``token_index`` and ``read_token``
  (``AccessControl.pm`` ``check_user_exist``/``check_token_exist`` messages).
- ``src/PVE/API2/Group.pm`` ``read_group``: ``group 'X' does not exist``.
- ``src/PVE/API2/ACL.pm`` ``read_acl``: the ACL tree walked from ``/`` (``iterate_acl_tree``,
  children sorted), entries shown with ``Sys.Audit`` on ``/access`` or where the caller may
  modify permissions (``RPCEnvironment.pm`` ``check_perm_modify``). See ``acl_entries``.
- ``src/PVE/API2/Domains.pm`` ``read`` over ``Auth/Plugin.pm`` ``parse_config`` (``add
  default domains``: ``pam`` with ``plugin PVE::Auth::PAM``, ``pve``), with the digest of the
  absent domains.cfg.
- ``src/PVE/API2/TFA.pm`` ``list_user_tfa``/``get_tfa_entry`` → proxmox-tfa
  ``src/api/methods.rs``: no entries (``[]``), a missing one is 404 ``No such tfa entry``.
- ``src/PVE/API2/AccessControl.pm`` ``get_ticket``: the login-page dummy, ``null``, served
  without authentication (pve-manager ``PVE/HTTPServer.pm`` ``auth_handler``).
- pve-manager ``PVE/API2/Pool.pm`` ``read_pool`` → ``index`` with ``poolid``: ``pool 'X'
  does not exist`` (user.cfg has no pools; ``RPCEnvironment.pm`` ``check_pool_exist`` agrees).
"""

from __future__ import annotations

import hashlib
from typing import Any

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import Call, Handler
from solti.sandbox.pve.handlers.api_permissions import (
    ROOT,
    no_such_user,
    token_call,
    user_exists,
)
from solti.sandbox.pve.handlers.node_reads import builtin_roles
from solti.sandbox.pve.handlers.unconfigured import DEFAULT_REALMS, EMPTY_DIGEST
from solti.sandbox.pve.state.access import Access

# Auth/Plugin.pm parse_config forces ``plugin`` on the pam realm only.
REALM_EXTRA = {"pam": {"plugin": "PVE::Auth::PAM"}}


def _token(call: Call) -> tuple[str, str]:
    user, _, token = call.auth.token_id.partition("!")
    return user, token


def _tokens_of(call: Call, userid: str) -> dict[str, dict[str, int]]:
    """user.cfg ``token`` lines of ``userid``: the simulator's one token, with its own ACL
    (privilege separation) and no expiry."""
    user, token = _token(call)
    return {token: {"expire": 0, "privsep": 1}} if userid == user else {}


def _existing_user(call: Call) -> str:
    """The handler's own ``check_user_exist``, which root@pam (skipping the permission tests)
    and a token allowed on ``/access/groups`` reach."""
    userid = call.params["userid"]
    if not user_exists(userid):
        raise no_such_user(userid)
    return userid


def read_user(call: Call) -> dict[str, Any]:
    _existing_user(call)
    return {"enable": 1, "expire": 0, "groups": [], "tokens": _tokens_of(call, ROOT)}


def read_user_tfa_type(call: Call) -> dict[str, Any]:
    realm = call.params["userid"].rpartition("@")[2]
    if realm not in {row["realm"] for row in DEFAULT_REALMS}:
        raise PveError(500, f"auth domain '{realm}' does not exist\n")
    if call.params.get("multiple") in (1, True, "1"):
        return {"user": []}
    return {}


def token_index(call: Call) -> list[dict[str, Any]]:
    tokens = _tokens_of(call, _existing_user(call))
    return [{"tokenid": name, **info} for name, info in tokens.items()]


def read_token(call: Call) -> dict[str, Any]:
    userid, tokenid = _existing_user(call), call.params["tokenid"]
    info = _tokens_of(call, userid).get(tokenid)
    if info is None:
        raise PveError(500, f"no such token '{tokenid}' for user '{userid}'\n")
    return dict(info)


def read_group(call: Call) -> dict[str, Any]:
    raise PveError(500, f"group '{call.params['groupid']}' does not exist\n")


def read_realm(call: Call) -> dict[str, Any]:
    realm = call.params["realm"]
    for row in DEFAULT_REALMS:
        if row["realm"] == realm:
            data = {k: v for k, v in row.items() if k != "realm"}
            return {**data, **REALM_EXTRA.get(realm, {}), "digest": EMPTY_DIGEST}
    raise PveError(500, f"domain '{realm}' does not exist\n")


def list_user_tfa(call: Call) -> list[Any]:
    return []


def get_tfa_entry(call: Call) -> dict[str, Any]:
    raise PveError(404, f"No such tfa entry '{call.params['id']}'")


def get_ticket(call: Call) -> None:
    return None


def read_pool(call: Call) -> dict[str, Any]:
    poolid = call.params["poolid"]
    raise PveError(500, f"pool '{poolid}' does not exist\n")


# --- The ACL -------------------------------------------------------------------------------
# The simulator models the token's privileges per ACL path; user.cfg grants privileges only
# through roles. A privilege set equal to a built-in role (AccessControl.pm create_roles; the
# default "everything on /" is Administrator, an empty set NoAccess) is that role; any other
# set stands for a role an operator would have created for it, named after its privileges
# (``SoltiSim`` + 8 hex digits of their SHA-1), which /access/roles does not list.


def role_for(privileges: frozenset[str]) -> str:
    """The role id an ACL entry granting exactly ``privileges`` names."""
    if not privileges:
        return "NoAccess"
    for name, role_privileges in sorted(builtin_roles().items()):
        if name != "NoAccess" and role_privileges == privileges:
            return name
    digest = hashlib.sha1(",".join(sorted(privileges)).encode()).hexdigest()
    return f"SoltiSim{digest[:8]}"


def _may_modify(access: Access, path: str) -> bool:
    """``check_perm_modify``: Permissions.Modify, or the allocate privilege of the object."""
    wanted = ["Permissions.Modify"]
    if path.startswith("/storage/"):
        wanted.append("Datastore.Allocate")
    elif path.startswith("/vms/"):
        wanted.append("VM.Allocate")
    elif path.startswith("/pool/"):
        wanted.append("Pool.Allocate")
    return any(access.has(path, p) for p in wanted)


def acl_entries(access: Access, tokenid: str, audit_all: bool) -> list[dict[str, Any]]:
    """``read_acl`` over the token's ACL: per path (tree order), one entry per role and
    propagate flag; paths the caller may neither audit nor modify are left out."""
    acl = access.stored_acl()
    rows: list[dict[str, Any]] = []
    for path in sorted(acl, key=lambda p: [part for part in p.split("/") if part]):
        if not (audit_all or _may_modify(access, path)):
            continue
        by_flag: dict[int, set[str]] = {}
        for privilege, propagate in acl[path].items():
            by_flag.setdefault(int(propagate), set()).add(privilege)
        for propagate, privileges in sorted(by_flag.items(), reverse=True) or [(1, set())]:
            rows.append(
                {
                    "path": path,
                    "type": "token",
                    "ugid": tokenid,
                    "roleid": role_for(frozenset(privileges)),
                    "propagate": propagate,
                }
            )
    return rows


def read_acl(call: Call) -> list[dict[str, Any]]:
    """Everything for ``root@pam`` (a ticket); for the token what it may audit or modify
    (``read_acl``'s own ``check(..., '/access', ['Sys.Audit'], 1)``; the method itself is
    ``user => 'all'``)."""
    with call.cluster() as cluster:
        audit_all = not token_call(call.identity) or cluster.access.has("/access", "Sys.Audit")
        return acl_entries(cluster.access, call.auth.token_id, audit_all)


ACCESS_READS: dict[str, Handler] = {
    "/access/users/{userid}": read_user,
    "/access/users/{userid}/tfa": read_user_tfa_type,
    "/access/users/{userid}/token": token_index,
    "/access/users/{userid}/token/{tokenid}": read_token,
    "/access/groups/{groupid}": read_group,
    "/access/acl": read_acl,
    "/access/domains/{realm}": read_realm,
    "/access/tfa/{userid}": list_user_tfa,
    "/access/tfa/{userid}/{id}": get_tfa_entry,
    "/access/ticket": get_ticket,
    "/pools/{poolid}": read_pool,
}
