"""The permission tests of a PVE method's ``permissions => {check => ...}``, for read handlers.

pve-access-control ``src/PVE/RPCEnvironment.pm`` ``exec_api2_perm_check``, run by pve-manager
``PVE/HTTPServer.pm`` ``rest_handler`` before the method's code: ``perm`` is ``check`` (every
privilege; the first missing one is named) or ``check_any`` (one of them; all are named);
``userid-group`` wants the user to exist, then the privileges on ``/access/groups`` (the
simulator has no groups, so there is no per-group way in). Only API tokens are checked:
``permissions`` lets ``root@pam`` (a ticket) do anything.
"""

from __future__ import annotations

from solti.sandbox.pve.api_errors import PveError
from solti.sandbox.pve.handlers import Call
from solti.sandbox.pve.handlers.read_guard import Perm
from solti.sandbox.pve.state import Cluster

# user.cfg of a fresh cluster: the installer's root@pam (AccessControl.pm
# ``userconfig_force_defaults`` adds it even without the file); the simulator's token is
# root's, so no other user exists.
ROOT = "root@pam"
PERMISSION_DENIED = "Permission check failed"


def checked(call: Call) -> bool:
    """Whether the caller's privileges are checked at all (an API token)."""
    return bool(call.identity and call.identity.tokenid)


def perm(call: Call, cluster: Cluster, path: str, privileges: list[str], any_of: bool) -> None:
    """``['perm', path, privileges, any => any_of]``: 403 as ``check``/``check_any`` raise it
    (the test and its wording are ``read_guard.Perm``'s, for a path already filled in)."""
    if not checked(call):
        return
    detail = Perm(path, tuple(privileges), any_of).missing(cluster.access, {})
    if detail:
        raise PveError(403, f"{PERMISSION_DENIED} ({detail})")


def user_exists(userid: str) -> bool:
    """``check_user_exist`` against the simulator's user.cfg."""
    return userid == ROOT


def no_such_user(userid: str) -> PveError:
    """pve-access-control ``AccessControl.pm`` ``check_user_exist``."""
    return PveError(500, f"no such user ('{userid}')\n")


def userid_group(call: Call, cluster: Cluster, privileges: list[str], noerr: bool) -> bool:
    """``['userid-group', privileges]``: the user must exist (``no such user`` dies with 500
    unless ``noerr``), then the token needs one of ``privileges`` on ``/access/groups``."""
    if not checked(call):
        return True
    userid = call.params["userid"]
    if not user_exists(userid):
        if noerr:
            return False
        raise no_such_user(userid)
    if any(cluster.access.has("/access/groups", p) for p in privileges):
        return True
    if noerr:
        return False
    raise PveError(403, PERMISSION_DENIED)


def self_or_userid_group(call: Call, cluster: Cluster, privileges: list[str]) -> None:
    """``['or', ['userid-param', 'self'], ['userid-group', privileges]]``: each test runs with
    ``noerr``, so a user that does not exist ends in the bare ``raise_perm_exc()``. A token is
    never its user itself (``$username`` is the token id), so only ``userid-group`` helps."""
    if not checked(call):
        return  # root@pam: check_api2_permissions admits it before any test
    if userid_group(call, cluster, privileges, noerr=True):
        return
    raise PveError(403, PERMISSION_DENIED)
