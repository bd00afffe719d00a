#!/usr/bin/env bash
# Run the Ansible inventory plugin community.proxmox.proxmox against `solti sim pve --nodes 3`.
#
# By hand, not in CI (Ansible is too heavy for the suite). Issue 11: read-only clients must run
# against the simulator without an error, and one client "silently reports no address for
# every VM because a read it tries first fails". This starts the simulator, makes four VMs
# through the API (two running with their guest agent, one stopped, one running without an
# agent key) and a template, then runs `ansible-inventory --list` with want_facts, the nodes'
# ansible_host and the guest agents' interfaces, as an operator would: once with the
# simulator's token (every privilege), once with a read-only token (the PVEAuditor role on /).
# It prints each host's address and every API request of the run that did not answer 200, and
# exits 1 when a running VM with an agent has no address or a request answered 501. The result
# is in docs/design.md, "Real clients".
#
# Usage: scripts/try_ansible_inventory.sh [ANSIBLE_VENV]   (default /tmp/ansible-venv: a venv
#        with `pip install ansible`, which brings the community.proxmox collection)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ANSIBLE_VENV=${1:-/tmp/ansible-venv}
PYTHON="$ROOT/.venv/bin/python"
WORK=$(mktemp -d)
SIM_PID=""
cleanup() {
    if [[ -n "$SIM_PID" ]]; then kill "$SIM_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

"$ROOT/.venv/bin/solti" sim pve --nodes 3 --shared-storage >"$WORK/sim.json" 2>"$WORK/sim.log" &
SIM_PID=$!
for _ in $(seq 100); do
    [[ -s "$WORK/sim.json" ]] && break
    sleep 0.1
done
[[ -s "$WORK/sim.json" ]] || { cat "$WORK/sim.log"; echo "the simulator did not start" >&2; exit 1; }
sim() { "$PYTHON" -c 'import json,sys; print(eval(sys.argv[2], {}, json.loads(open(sys.argv[1]).readline())))' "$WORK/sim.json" "$1"; }
URL=$(sim url)
CA=$(sim 'env["PROXMOX_CA_BUNDLE"]')

# Seed the cluster through the API (the real proxmoxer client), write the inventory file.
read -r -d '' SEED <<'PY' || true
import json, sys, time
from pathlib import Path
from proxmoxer import ProxmoxAPI

work = Path(sys.argv[1])
env = json.loads((work / "sim.json").read_text().splitlines()[0])["env"]
host, port = env["PROXMOX_URL"].removeprefix("https://").split(":")
user, _, token = env["PROXMOX_TOKEN_ID"].partition("!")
api = ProxmoxAPI(host, port=int(port), user=user, token_name=token,
                 token_value=env["PROXMOX_TOKEN_SECRET"], verify_ssl=env["PROXMOX_CA_BUNDLE"])


def run(node, upid):
    while (status := api.nodes(node).tasks(upid).status.get())["status"] != "stopped":
        time.sleep(0.1)
    assert status["exitstatus"] == "OK", status


disk = {"scsi0": "local-lvm:1", "net0": "virtio,bridge=vmbr0", "ide2": "local-lvm:cloudinit"}
guests = [  # vmid, node, name, agent, start
    (100, "pve", "web-1", "1", True),
    (101, "pve2", "db-1", "1", False),
    (102, "pve3", "cache-1", "enabled=1,fstrim_cloned_disks=1", True),
    (103, "pve", "legacy-1", None, True),
]
for vmid, node, name, agent, start in guests:
    params = dict(vmid=vmid, name=name, memory=1024, ipconfig0="ip=dhcp", tags="solti", **disk)
    if agent:
        params["agent"] = agent
    run(node, api.nodes(node).qemu.post(**params))
    if start:
        run(node, api.nodes(node).qemu(vmid).status.start.post())
run("pve", api.nodes("pve").qemu.post(vmid=9000, name="rocky9", **disk))
run("pve", api.nodes("pve").qemu(9000).template.post())
# Wait until the started guests' agents answer (the simulator boots them in 1.5 s); the report
# counts only the requests made after this.
for vmid, node in ((100, "pve"), (102, "pve3")):
    for _ in range(100):
        try:
            api.nodes(node).qemu(vmid).agent("network-get-interfaces").get()
            break
        except Exception:
            time.sleep(0.1)

address = (
    "(proxmox_agent_interfaces | rejectattr('name', 'equalto', 'lo')"
    " | map(attribute='ip-addresses') | flatten | first | default('')).split('/') | first"
)
(work / "solti.proxmox.yml").write_text(f"""\
plugin: community.proxmox.proxmox
url: {env['PROXMOX_URL']}
user: {user}
token_id: {token}
token_secret: {env['PROXMOX_TOKEN_SECRET']}
validate_certs: true
want_facts: true
want_proxmox_nodes_ansible_host: true
qemu_extended_statuses: true
strict: true
compose:
  ansible_host: "{address} if proxmox_agent_interfaces is defined else ansible_host | default('')"
keyed_groups:
  - key: proxmox_tags_parsed
    separator: ""
    prefix: tag_
""")
PY
"$PYTHON" -c "$SEED" "$WORK"

# The report of one run: each host's address and facts, every request that did not answer 200.
read -r -d '' REPORT <<'PY' || true
import json, sys
from pathlib import Path

work, before = Path(sys.argv[1]), int(sys.argv[2])


def plain(value):
    """ansible-inventory 2.19 writes template-unsafe strings as {"__ansible_unsafe": ...}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


inventory = plain(json.loads((work / "inventory.json").read_text()))
problems = []
print(f"{'host':10} {'ansible_host':16} {'status':8} agent interfaces")
for name, facts in sorted(inventory["_meta"]["hostvars"].items()):
    ifaces = facts.get("proxmox_agent_interfaces")
    shown = ", ".join(f"{i['name']}={' '.join(i['ip-addresses'])}" for i in ifaces or [])
    status = facts.get("proxmox_status", "node")
    print(f"{name:10} {facts.get('ansible_host') or '-':16} {status:8} {shown or '-'}")
    agent = facts.get("proxmox_agent")
    if status == "running" and agent and not facts.get("ansible_host"):
        problems.append(f"{name}: running with agent {agent}, but no address")
groups = {g: v.get("hosts", []) for g, v in inventory.items() if g not in ("_meta", "all")}
print("groups:", json.dumps({g: sorted(h) for g, h in sorted(groups.items()) if h}))
log = json.loads((work / "requests.json").read_text())["data"][before:]
reads = [r for r in log if r["method"] == "GET"]
print(f"{len(reads)} GET requests; not 200:")
for r in reads:
    if r["status"] != 200:
        print(f"  {r['status']} GET {r['path']}")
        if r["status"] == 501:
            problems.append(f"501 for GET {r['path']}")
for problem in problems:
    print("PROBLEM:", problem)
sys.exit(1 if problems else 0)
PY

requests_seen() { curl -s --cacert "$CA" "$URL/_sim/requests" | tee "$WORK/requests.json" |
    "$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["data"]))'; }

# inventory LABEL: one `ansible-inventory --list` and its report.
inventory() {
    local before
    before=$(requests_seen)
    echo
    echo "== $1"
    # requests (under the plugin) verifies against REQUESTS_CA_BUNDLE when validate_certs is on.
    REQUESTS_CA_BUNDLE="$CA" "$ANSIBLE_VENV/bin/ansible-inventory" \
        -i "$WORK/solti.proxmox.yml" --list >"$WORK/inventory.json"
    requests_seen >/dev/null
    "$PYTHON" -c "$REPORT" "$WORK" "$before"
}

VERSION=$("$ANSIBLE_VENV/bin/ansible-inventory" --version)
COLLECTION=$("$ANSIBLE_VENV/bin/ansible-galaxy" collection list community.proxmox 2>/dev/null)
echo "${VERSION%%$'\n'*}; ${COLLECTION##*$'\n'}"
status=0
inventory "token with every privilege on / (the simulator's default)" || status=1

# A read-only token, as monitoring and inventory tools are given: the PVEAuditor role on /.
AUDITOR=$(curl -s --cacert "$CA" -H "Authorization: PVEAPIToken=$(sim 'env["PROXMOX_TOKEN_ID"]')=$(sim 'env["PROXMOX_TOKEN_SECRET"]')" \
    "$URL/api2/json/access/roles/PVEAuditor" |
    "$PYTHON" -c 'import json,sys; print(json.dumps(sorted(json.load(sys.stdin)["data"])))')
curl -s --fail --cacert "$CA" -H 'Content-Type: application/json' \
    -d "{\"kind\": \"token_privileges\", \"acl\": {\"/\": $AUDITOR}}" "$URL/_sim/faults" >/dev/null
inventory "read-only token: PVEAuditor on / $AUDITOR" || status=1
exit $status
