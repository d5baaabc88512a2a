#!/usr/bin/env bash
# Applies one configuration profile to a cluster's nodes, one component at a time, and prints
# one machine-readable line per step on stdout, for the runner (the ECS task's caller, or an
# SSM command on the master) to turn into `configure:<component>` phases:
#
#   COMPONENT <name> START all
#   COMPONENT <name> OK all
#   COMPONENT <name> FAILED <node>      (one line per failed or unreachable node; `-` when
#                                        no node is to blame, e.g. an error in the playbook)
#
# With CLUSTER_ID set, every line ends with ` cluster=<id> attempt=<n>`: the ECS task's lines
# land in a log group all tasks share, and whoever reads them there must tell whose run they are.
# Ansible's own output goes to stderr, so stdout carries nothing but these lines.
#
# Usage: run-profile.sh [PROFILE]
#
# Environment (see configuration/README.md for the formats):
#   PROFILE                    the profile (`lambda`, `none`, `script`) unless given as argument
#   CLUSTER_INVENTORY_JSON     the inventory, as JSON …
#   CLUSTER_INVENTORY_S3_URI   … or s3://<bucket>/<key> of an object holding it (fetched with
#                              boto3 and the task role's credentials) …
#   CLUSTER_INVENTORY_FILE     … or a file holding it
#   CLUSTER_EXTRA_VARS_JSON    optional: the profile's parameters, a JSON object …
#   CLUSTER_EXTRA_VARS_S3_URI  … or s3://<bucket>/<key> of an object holding it …
#   CLUSTER_EXTRA_VARS_FILE    … or a file holding it
#   SSH_PRIVATE_KEY            optional: the key that opens the nodes (an ECS secret) …
#   SSH_PRIVATE_KEY_FILE       … or a file holding it
#   SSH_KNOWN_HOSTS            optional: known_hosts lines for the nodes; without them, a node's
#                              first key is accepted and then held to for the rest of the run
#   SSH_JUMP_HOST              optional: `user@address` every connection goes through (the
#                              master's public address, where the nodes' own are out of reach),
#                              with the same key and known hosts
#   COMPONENTS                 optional: the components to run (space or comma separated), in
#                              the profile's order; default all of them (to resume after a
#                              failure, name the failed one and those after it)
#   CLUSTER_ID                 optional: the cluster whose run this is (letters, digits, `-`) …
#   CLUSTER_ATTEMPT            … and its provision attempt (default 1); both go into every line
#
# Exit status: 0 every component OK; 2 a component failed; 64 bad input.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ansible_dir="$(cd "$here/../ansible" && pwd)"

usage_error() {
  echo "run-profile: $*" >&2
  exit 64
}

profile="${1:-${PROFILE:-}}"
[[ -n "$profile" ]] || usage_error "no profile: pass it as the first argument or set PROFILE"
# A profile names a playbook next to the roles; nothing else in that directory may be run.
[[ "$profile" =~ ^[a-z][a-z0-9-]*$ && -f "$ansible_dir/$profile.yml" ]] ||
  usage_error "unknown profile \"$profile\"; known: $(cd "$ansible_dir" && ls -1 ./*.yml | sed 's|^\./||; s|\.yml$||' | tr '\n' ' ')"
playbook="$ansible_dir/$profile.yml"

# The lines' identity, checked before anything runs: a space in it would break every reader's parse.
identity=""
if [[ -n "${CLUSTER_ID:-}" ]]; then
  [[ "$CLUSTER_ID" =~ ^[A-Za-z0-9-]{1,64}$ ]] || usage_error "CLUSTER_ID must be 1-64 letters, digits or hyphens"
  attempt="${CLUSTER_ATTEMPT:-1}"
  [[ "$attempt" =~ ^[1-9][0-9]{0,5}$ ]] || usage_error "CLUSTER_ATTEMPT must be a positive whole number"
  identity=" cluster=$CLUSTER_ID attempt=$attempt"
fi

# One machine-readable line on stdout (the header above).
report() {
  echo "COMPONENT $1 $2 $3$identity"
}

work="$(mktemp -d "${TMPDIR:-/tmp}/run-profile.XXXXXX")"
# The key and the parameters must not outlive the run, whatever ends it.
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"

# --- inputs ---------------------------------------------------------------------------------

# Fetches an input passed by reference (ECS caps a task's overrides at 8 KiB, which the inventory
# of a few tens of nodes exceeds). Any failure to fetch is bad input: the run cannot start.
fetch_s3() {
  python3 - "$1" "$2" "$3" <<'PY' || exit 64
import re, sys

what, uri, destination = sys.argv[1:4]
match = re.fullmatch(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/([^?#]+)", uri)
if not match:
    sys.exit(f"run-profile: the {what} URI is not s3://<bucket>/<key>: {uri}")
bucket, key = match.groups()
try:
    import boto3

    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
except Exception as error:  # whatever failed (credentials, access, no such key), the message says it
    sys.exit(f"run-profile: cannot fetch the {what} from {uri}: {error}")
with open(destination, "wb") as f:
    f.write(body)
PY
}

inventory="$work/inventory.json"
if [[ -n "${CLUSTER_INVENTORY_JSON:-}" ]]; then
  printf '%s\n' "$CLUSTER_INVENTORY_JSON" >"$inventory"
elif [[ -n "${CLUSTER_INVENTORY_S3_URI:-}" ]]; then
  fetch_s3 inventory "$CLUSTER_INVENTORY_S3_URI" "$inventory"
elif [[ -n "${CLUSTER_INVENTORY_FILE:-}" ]]; then
  [[ -r "$CLUSTER_INVENTORY_FILE" ]] || usage_error "CLUSTER_INVENTORY_FILE $CLUSTER_INVENTORY_FILE cannot be read"
  cp "$CLUSTER_INVENTORY_FILE" "$inventory"
else
  usage_error "no inventory: set CLUSTER_INVENTORY_JSON, CLUSTER_INVENTORY_S3_URI or CLUSTER_INVENTORY_FILE"
fi

extra_vars="$work/extra-vars.json"
if [[ -n "${CLUSTER_EXTRA_VARS_JSON:-}" ]]; then
  printf '%s\n' "$CLUSTER_EXTRA_VARS_JSON" >"$extra_vars"
elif [[ -n "${CLUSTER_EXTRA_VARS_S3_URI:-}" ]]; then
  fetch_s3 "extra vars" "$CLUSTER_EXTRA_VARS_S3_URI" "$extra_vars"
elif [[ -n "${CLUSTER_EXTRA_VARS_FILE:-}" ]]; then
  [[ -r "$CLUSTER_EXTRA_VARS_FILE" ]] || usage_error "CLUSTER_EXTRA_VARS_FILE $CLUSTER_EXTRA_VARS_FILE cannot be read"
  cp "$CLUSTER_EXTRA_VARS_FILE" "$extra_vars"
else
  echo '{}' >"$extra_vars"
fi

# Extra vars outrank everything, the inventory included: a parameter named ansible_host or
# ansible_become_user would take over the connection. Parameters are the cluster owner's
# input, so only plain names that are not Ansible's own get through.
python3 - "$inventory" "$extra_vars" <<'PY' || exit 64
import json, re, sys

inventory_path, extra_vars_path = sys.argv[1], sys.argv[2]

def load(path, what):
    try:
        with open(path) as f:
            return json.load(f)
    except ValueError as error:
        sys.exit(f"run-profile: the {what} is not JSON: {error}")

inventory = load(inventory_path, "inventory")
if not isinstance(inventory, dict) or not isinstance(inventory.get("all"), dict):
    sys.exit('run-profile: the inventory must be an object with a top-level "all" group')

extra_vars = load(extra_vars_path, "extra vars")
if not isinstance(extra_vars, dict):
    sys.exit("run-profile: the extra vars must be a JSON object")
for name in extra_vars:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name.startswith("ansible_"):
        sys.exit(f'run-profile: parameter "{name}" is not allowed (lower-case names only, none starting with ansible_)')
PY

if [[ -n "${SSH_PRIVATE_KEY:-}" ]]; then
  # Secrets stores often drop the final newline, without which OpenSSH refuses the key.
  (umask 077 && printf '%s\n' "$SSH_PRIVATE_KEY" >"$work/id_key")
  export ANSIBLE_PRIVATE_KEY_FILE="$work/id_key"
elif [[ -n "${SSH_PRIVATE_KEY_FILE:-}" ]]; then
  [[ -r "$SSH_PRIVATE_KEY_FILE" ]] || usage_error "SSH_PRIVATE_KEY_FILE $SSH_PRIVATE_KEY_FILE cannot be read"
  export ANSIBLE_PRIVATE_KEY_FILE="$SSH_PRIVATE_KEY_FILE"
fi

known_hosts="$work/known_hosts"
if [[ -n "${SSH_KNOWN_HOSTS:-}" ]]; then
  printf '%s\n' "$SSH_KNOWN_HOSTS" >"$known_hosts"
  host_key_policy=yes
else
  # Fresh servers have keys nobody has seen; the runner can pass them (console output, SSM)
  # for a strict check. Without them, trust on first use, within this run only.
  : >"$known_hosts"
  host_key_policy=accept-new
fi

# --- Ansible's environment: everything it writes stays in $work ------------------------------

export ANSIBLE_CONFIG="$ansible_dir/ansible.cfg"
export ANSIBLE_HOME="$work/ansible-home"
export ANSIBLE_LOCAL_TEMP="$work/tmp"
export ANSIBLE_SSH_CONTROL_PATH_DIR="$work/cp"
ssh_options="-o UserKnownHostsFile=$known_hosts -o StrictHostKeyChecking=$host_key_policy -o ServerAliveInterval=30"
if [[ -n "${SSH_JUMP_HOST:-}" ]]; then
  [[ $SSH_JUMP_HOST =~ ^[a-z_][a-z0-9_-]{0,31}@[0-9A-Za-z.:-]+$ ]] || usage_error "SSH_JUMP_HOST must be user@address"
  # Options on the command line reach the destination only: the hop is given them itself.
  jump="ssh -W %h:%p $ssh_options${ANSIBLE_PRIVATE_KEY_FILE:+ -i $ANSIBLE_PRIVATE_KEY_FILE} $SSH_JUMP_HOST"
  ssh_options="$ssh_options -o ProxyCommand=\"$jump\""
fi
export ANSIBLE_SSH_COMMON_ARGS="$ssh_options"
export ANSIBLE_INVENTORY_UNPARSED_FAILED=true
export ANSIBLE_NOCOLOR=true
export ANSIBLE_RETRY_FILES_ENABLED=false
export PYTHONUNBUFFERED=1

# --- components -----------------------------------------------------------------------------

# The playbook's plays, in order, each tagged with its component: ask Ansible rather than keep
# a second list here.
listing="$(ansible-playbook -i "$inventory" --list-tags "$playbook" 2>"$work/list-tags.err")" || {
  cat "$work/list-tags.err" >&2
  usage_error "Ansible cannot read the inventory or $profile.yml (above)"
}
mapfile -t profile_components < <(
  printf '%s\n' "$listing" | sed -n 's/^  play #[0-9]* .*TAGS: \[\([^],]*\)\]$/\1/p'
)
((${#profile_components[@]} > 0)) || usage_error "$profile.yml has no play tagged with a component"

if [[ -n "${COMPONENTS:-}" ]]; then
  read -r -a wanted <<<"${COMPONENTS//,/ }"
  for component in "${wanted[@]}"; do
    [[ " ${profile_components[*]} " == *" $component "* ]] ||
      usage_error "component \"$component\" is not in profile $profile (${profile_components[*]})"
  done
  components=()
  for component in "${profile_components[@]}"; do
    [[ " ${wanted[*]} " == *" $component "* ]] && components+=("$component")
  done
else
  components=("${profile_components[@]}")
fi

# The nodes a finished run blames: every host of the recap with failures or unreachable.
failed_nodes() {
  awk '
    /^PLAY RECAP/ { recap = 1; next }
    recap && / : ok=/ {
      failed = 0; unreachable = 0
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^failed=/) { split($i, kv, "="); failed = kv[2] + 0 }
        if ($i ~ /^unreachable=/) { split($i, kv, "="); unreachable = kv[2] + 0 }
      }
      if (failed > 0 || unreachable > 0) print $1
    }
  ' "$1"
}

for component in "${components[@]}"; do
  report "$component" START all
  log="$work/$component.log"
  set +e
  ansible-playbook -i "$inventory" -e "@$extra_vars" --tags "$component" "$playbook" 2>&1 | tee "$log" >&2
  status=${PIPESTATUS[0]}
  set -e
  if ((status == 0)); then
    report "$component" OK all
    continue
  fi
  mapfile -t nodes < <(failed_nodes "$log")
  if ((${#nodes[@]} == 0)); then
    report "$component" FAILED -
  else
    for node in "${nodes[@]}"; do report "$component" FAILED "$node"; done
  fi
  exit 2
done
