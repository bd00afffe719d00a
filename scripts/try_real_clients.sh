#!/usr/bin/env bash
# Run real read-only Proxmox clients against `solti sim pve --nodes 3`, by hand (not in CI:
# Ansible is too heavy for the suite; prometheus-pve-exporter runs in tests/sim/).
#
# Issue 11: read-only clients must run against the simulator without an error, and one client
# "silently reports no address for every VM because a read it tries first fails". This starts
# the simulator, makes four VMs through the API (two running with their guest agent, one
# stopped, one running without an agent key) and a template, then runs, as an operator would:
# - the Ansible inventory plugin community.proxmox.proxmox (`ansible-inventory --list` with
#   want_facts, the nodes' ansible_host and ansible_host from the guest agents' interfaces);
# - prometheus-pve-sd (Prometheus file service discovery; it reads agent/info first), when
#   its virtual environment is given;
# once with the simulator's token (every privilege), once with a read-only token (the
# PVEAuditor role on /). It prints each host's address and every API request of the run that
# did not answer 200, and exits 1 when a running VM with an agent has no address or a request
# answered 501. The result is in docs/design.md, "Real clients".
#
# Usage: scripts/try_real_clients.sh [ANSIBLE_VENV [PVE_SD_VENV]]
#   ANSIBLE_VENV  default /tmp/ansible-venv: a venv with `pip install ansible` (it brings the
#                 community.proxmox collection)
#   PVE_SD_VENV   optional: a venv with `pip install prometheus-pve-sd`
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ANSIBLE_VENV=${1:-/tmp/ansible-venv}
PVE_SD_VENV=${2:-}
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

# The report of one run: each host's address, every request that did not answer 200.
read -r -d '' REPORT <<'PY' || true
import json, sys
from pathlib import Path

work, before, client = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# The running VMs with an enabled agent: each must come out with an address.
NEEDS_ADDRESS = {"web-1", "cache-1"}


def plain(value):
    """ansible-inventory 2.19 writes template-unsafe strings as {"__ansible_unsafe": ...}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


addresses = {}
if client == "ansible":
    inventory = plain(json.loads((work / "inventory.json").read_text()))
    print(f"{'host':10} {'ansible_host':16} {'status':8} agent interfaces")
    for name, facts in sorted(inventory["_meta"]["hostvars"].items()):
        ifaces = facts.get("proxmox_agent_interfaces")
        shown = ", ".join(f"{i['name']}={' '.join(i['ip-addresses'])}" for i in ifaces or [])
        status = facts.get("proxmox_status", "node")
        print(f"{name:10} {facts.get('ansible_host') or '-':16} {status:8} {shown or '-'}")
        addresses[name] = facts.get("ansible_host")
    groups = {g: v.get("hosts", []) for g, v in inventory.items() if g not in ("_meta", "all")}
    print("groups:", json.dumps({g: sorted(h) for g, h in sorted(groups.items()) if h}))
else:
    print(f"{'target':10} {'ipv4':16} {'status':8} labels")
    for group in json.loads((work / "targets.json").read_text()):
        labels = group["labels"]
        [name] = group["targets"]
        ipv4 = labels.get("__meta_pve_ipv4")
        shown = ", ".join(f"{k[11:]}={v}" for k, v in labels.items() if k[11:] not in ("ipv4", "status"))
        print(f"{name:10} {ipv4:16} {labels.get('__meta_pve_status', '-'):8} {shown}")
        addresses[name] = None if ipv4 == "False" else ipv4
problems = [f"{name}: running with its agent, but no address" for name in sorted(NEEDS_ADDRESS)
            if not addresses.get(name)]
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

# clients TOKEN_LABEL: one `ansible-inventory --list` (and one prometheus-pve-sd run), reported.
clients() {
    local before status=0
    before=$(requests_seen)
    echo
    echo "== ansible-inventory, $1"
    # requests (under the plugin) verifies against REQUESTS_CA_BUNDLE when validate_certs is on.
    REQUESTS_CA_BUNDLE="$CA" "$ANSIBLE_VENV/bin/ansible-inventory" \
        -i "$WORK/solti.proxmox.yml" --list >"$WORK/inventory.json"
    requests_seen >/dev/null
    "$PYTHON" -c "$REPORT" "$WORK" "$before" ansible || status=1
    [[ -n "$PVE_SD_VENV" ]] || return $status
    before=$(requests_seen)
    echo
    echo "== prometheus-pve-sd, $1"
    # Its PVE_VERIFY_SSL is a boolean; proxmoxer's requests session takes the CA from the env.
    (cd "$WORK" && REQUESTS_CA_BUNDLE="$CA" PROMETHEUS_PVE_SD_PVE_SERVER="${URL#https://}" \
        PROMETHEUS_PVE_SD_PVE_USER="${TOKEN_ID%%!*}" PROMETHEUS_PVE_SD_PVE_TOKEN_NAME="${TOKEN_ID#*!}" \
        PROMETHEUS_PVE_SD_PVE_TOKEN_VALUE="$TOKEN_SECRET" PROMETHEUS_PVE_SD_CONFIG_FILE="$WORK/none.yml" \
        "$PVE_SD_VENV/bin/prometheus-pve-sd" --no-service -o "$WORK/targets.json" -q)
    requests_seen >/dev/null
    "$PYTHON" -c "$REPORT" "$WORK" "$before" pve-sd || status=1
    return $status
}

TOKEN_ID=$(sim 'env["PROXMOX_TOKEN_ID"]')
TOKEN_SECRET=$(sim 'env["PROXMOX_TOKEN_SECRET"]')
VERSION=$("$ANSIBLE_VENV/bin/ansible-inventory" --version)
COLLECTION=$("$ANSIBLE_VENV/bin/ansible-galaxy" collection list community.proxmox 2>/dev/null)
echo "${VERSION%%$'\n'*}; ${COLLECTION##*$'\n'}"
if [[ -n "$PVE_SD_VENV" ]]; then "$PVE_SD_VENV/bin/prometheus-pve-sd" --version; fi
status=0
clients "token with every privilege on / (the simulator's default)" || status=1

# A read-only token, as monitoring and inventory tools are given: the PVEAuditor role on /.
AUDITOR=$(curl -s --cacert "$CA" -H "Authorization: PVEAPIToken=$TOKEN_ID=$TOKEN_SECRET" \
    "$URL/api2/json/access/roles/PVEAuditor" |
    "$PYTHON" -c 'import json,sys; print(json.dumps(sorted(json.load(sys.stdin)["data"])))')
curl -s --fail --cacert "$CA" -H 'Content-Type: application/json' \
    -d "{\"kind\": \"token_privileges\", \"acl\": {\"/\": $AUDITOR}}" "$URL/_sim/faults" >/dev/null
clients "read-only token: PVEAuditor on / $AUDITOR" || status=1
exit $status
