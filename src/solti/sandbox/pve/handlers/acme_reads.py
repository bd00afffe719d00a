"""GET of ACME plugins, accounts and the CA's directory meta, on a cluster with no ACME set up.

- pve-manager ``PVE/API2/ACMEPlugin.pm`` ``get_plugin_config``: ``load_config`` reads
  ``priv/acme/plugins.cfg`` through proxmox-acme ``PVE::ACME::Challenge::parse_config``,
  which always adds the ``standalone`` plugin (``{type => 'standalone'}``) when the file lacks
  it; ``$modify_cfg_for_api`` adds ``plugin`` and the section config's ``digest`` (sha1 of the
  absent file's ''), or dies "ACME plugin '<id>' not defined".
- ``PVE/API2/ACMEAccount.pm`` ``get_account``: no file under /etc/pve/priv/acme, so
  ``raise_param_exc({ name => "ACME account config file '<name>' does not exist." })``.
- ``PVE/API2/ACMEAccount.pm`` ``get_tos`` and ``get_meta``: ``PVE::ACME->new(undef, $dir)``
  then ``get_meta`` fetches the CA's directory (proxmox-acme ``src/PVE/ACME.pm``
  ``__get_methods`` -> ``do``). The simulated cluster has no way out to the CA, so LWP's
  request fails and ``do`` calls ``fatal("Error: GET to $url\\n" . content)``: a 500 whose
  first line (the HTTP reason) is "Error: GET to <directory url>". The rest of the message is
  LWP's own connect error text, given here as LWP words a failed name lookup.
- ``PVE/API2/ACMEAccount.pm`` ``challengeschema``: one row per DNS plugin of proxmox-acme's
  ``/usr/share/proxmox-acme/dns-challenge-schema.json`` (``PVE::ACME::DNSChallenge``
  ``get_supported_plugins``), ``{id, name => $schema->{name} // $id, type => 'dns', schema}``,
  sorted by id; the standalone plugin has no ``get_supported_plugins`` and is not listed. The
  ids are exactly that file's keys, which the 9.1 schema carries as the enum of the plugin's
  ``api`` option (``DNSChallenge.pm`` ``properties``). The file's per-plugin names and field
  schemas are not vendored (no 9.1 copy was reachable, and an older fork's would mix
  versions), so each row's ``name`` falls back to its id, as PVE's own does for a plugin
  without one, and ``schema`` is ``{}``.
"""

from __future__ import annotations

import hashlib
from typing import Any, NoReturn

from solti.sandbox.pve import path_catalog
from solti.sandbox.pve.api_errors import PveError, param_error, server_error
from solti.sandbox.pve.handlers import Call, Handler

# pve-common SectionConfig parse_config digest of the absent plugins.cfg.
PLUGINS_DIGEST = hashlib.sha1(b"").hexdigest()
# ACMEAccount.pm ``$acme_default_directory_url``: the first of ``$acme_directories``.
DEFAULT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory"
BUILTIN_PLUGINS: dict[str, dict[str, Any]] = {"standalone": {"type": "standalone"}}


def acme_plugin(call: Call) -> dict[str, Any]:
    """``ACMEPlugin.pm`` ``get_plugin_config`` (after its ``['perm', '/', ['Sys.Modify']]``)."""
    plugin_id = call.params["id"]
    found = BUILTIN_PLUGINS.get(plugin_id)
    if found is None:
        raise server_error(f"ACME plugin '{plugin_id}' not defined")
    return {**found, "plugin": plugin_id, "digest": PLUGINS_DIGEST}


def acme_account(call: Call) -> NoReturn:
    name = call.params.get("name") or "default"
    raise param_error({"name": f"ACME account config file '{name}' does not exist."})


def _directory_unreachable(call: Call) -> NoReturn:
    url = call.params.get("directory") or DEFAULT_DIRECTORY
    host = url.split("://", 1)[-1].split("/", 1)[0]
    detail = f"Can't connect to {host}:443 (Temporary failure in name resolution)"
    raise PveError(500, f"Error: GET to {url}\n{detail}\n")


def challenge_schema(call: Call) -> list[dict[str, Any]]:
    """Permission ``user => 'all'``: any authenticated caller."""
    api = path_catalog.endpoints()["/cluster/acme/plugins"]["POST"]["parameters"]["properties"]
    plugins = sorted(api["api"]["enum"])
    return [{"id": id_, "name": id_, "type": "dns", "schema": {}} for id_ in plugins]


ACME_READS: dict[str, Handler] = {
    "/cluster/acme/challenge-schema": challenge_schema,
    "/cluster/acme/plugins/{id}": acme_plugin,
    "/cluster/acme/account/{name}": acme_account,
    "/cluster/acme/tos": _directory_unreachable,
    "/cluster/acme/meta": _directory_unreachable,
}
