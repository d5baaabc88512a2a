#!/usr/bin/env bash
# Offline check of the configuration profiles: every playbook passes Ansible's syntax check
# against the sample inventory, every play is tagged with exactly one component and every task
# of the play carries it (so `--tags <component>` runs the whole component and nothing else),
# the profiles have the components the workflow reports, and every template of the lambda
# profile renders for every node of the sample inventory. Nothing is downloaded and no node is
# contacted; the only network use is installing Ansible itself when it is missing.
#
# Prints one line per item checked and exits non-zero on the first failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ansible_dir="$here/ansible"
inventory="$ansible_dir/inventory.sample.json"
min_version="2.14"

# The components each profile must have, in order: the workflow reports them as phases
# `configure:<component>` (the profiles catalogue, functions/domain/profiles.ts).
declare -A expected=(
  [lambda]="common hdfs yarn kafka flink"
  [none]="none"
  [script]="script"
)

fail() {
  echo "FAIL $*"
  exit 1
}

work="$(mktemp -d "${TMPDIR:-/tmp}/configuration-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# --- Ansible --------------------------------------------------------------------------------

if ! command -v ansible-playbook >/dev/null 2>&1; then
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "..   ansible-playbook is missing: installing Debian's ansible-core"
    # ansible-core rather than the `ansible` bundle: the playbooks use no collection, and this
    # proves it.
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ansible-core; } \
      >"$work/apt.log" 2>&1; then
      cat "$work/apt.log"
      fail "could not install ansible-core with apt-get (output above)"
    fi
  else
    fail "ansible-playbook is missing. Install ansible-core ${min_version} or later and run again:" \
      "on Debian/Ubuntu \`sudo apt-get install ansible-core\`, elsewhere \`pipx install ansible-core\`."
  fi
fi

version="$(ansible-playbook --version | sed -n '1s/.*\[core \([0-9][0-9.]*\).*/\1/p')"
[[ -n "$version" ]] || fail "cannot tell the version of $(command -v ansible-playbook)"
[[ "$(printf '%s\n%s\n' "$min_version" "$version" | sort -V | head -n1)" == "$min_version" ]] ||
  fail "ansible-core $version is too old: the playbooks need $min_version or later"
echo "ok   ansible-core $version ($(command -v ansible-playbook))"

# Only this project's settings: not the user's ~/.ansible.cfg, not a writable home directory.
export ANSIBLE_CONFIG="$ansible_dir/ansible.cfg"
export ANSIBLE_HOME="$work/ansible-home"
export ANSIBLE_LOCAL_TEMP="$work/tmp"
export ANSIBLE_INVENTORY_UNPARSED_FAILED=true
export ANSIBLE_NOCOLOR=true
export ANSIBLE_RETRY_FILES_ENABLED=false

# Runs an Ansible command; any warning counts as a failure, since most of them (an unmatched
# host pattern, an unknown group, a deprecated option) mean the profile would not do what it
# says.
run() {
  local label="$1"
  shift
  if ! "$@" >"$work/out" 2>"$work/err"; then
    cat "$work/out" "$work/err"
    fail "$label"
  fi
  if grep -q '\[WARNING\]\|\[DEPRECATION WARNING\]' "$work/err" "$work/out"; then
    cat "$work/err"
    fail "$label: Ansible warned (above)"
  fi
}

# --- the sample inventory: the shape every runner must produce -------------------------------

run "inventory.sample.json does not parse" ansible-inventory -i "$inventory" --list
python3 - "$work/out" <<'PY' || fail "inventory.sample.json does not have the documented shape"
import json, sys
inventory = json.load(open(sys.argv[1]))
hostvars = inventory["_meta"]["hostvars"]

def hosts(group):
    found = list(inventory.get(group, {}).get("hosts", []))
    for child in inventory.get(group, {}).get("children", []):
        found += hosts(child)
    return found

master, workers = hosts("master"), hosts("workers")
assert len(master) == 1, f"group master must have one host, has {master}"
assert all("private_ip" in hostvars[h] for h in master + workers), "every host needs private_ip"
print(f"ok   inventory.sample.json: master {master[0]}, {len(workers)} workers")
PY

# --- the profiles ---------------------------------------------------------------------------

shopt -s nullglob
playbooks=("$ansible_dir"/*.yml)
((${#playbooks[@]} > 0)) || fail "no playbooks in $ansible_dir"

seen=()
for playbook in "${playbooks[@]}"; do
  name="$(basename "$playbook")"
  profile="${name%.yml}"
  seen+=("$profile")

  run "$name: syntax check" ansible-playbook -i "$inventory" --syntax-check "$playbook"
  run "$name: task list" ansible-playbook -i "$inventory" --list-tasks "$playbook"

  # `--list-tasks` prints each play with its tags, then each task with its own.
  summary="$(awk '
    /^  play #/ {
      tags = $0; sub(/.*TAGS: \[/, "", tags); sub(/\]$/, "", tags)
      if (tags == "" || tags ~ /,/) { print "ERROR play \"" $0 "\" must have exactly one tag"; exit }
      play = tags; components = components " " play; next
    }
    play != "" && /TAGS: \[/ {
      task_tags = $0; sub(/.*TAGS: \[/, "", task_tags); sub(/\]$/, "", task_tags)
      n = split(task_tags, list, /, /); found = 0
      for (i = 1; i <= n; i++) if (list[i] == play) found = 1
      if (!found) { print "ERROR task \"" $0 "\" lacks its play tag " play; exit }
      tasks++
    }
    END { sub(/^ /, "", components); print components "|" tasks + 0 }
  ' "$work/out")"
  [[ "$summary" != ERROR* ]] || fail "$name: ${summary#ERROR }"
  components="${summary%|*}"
  tasks="${summary#*|}"

  if [[ -n "${expected[$profile]:-}" && "$components" != "${expected[$profile]}" ]]; then
    fail "$name: components are \"$components\", the workflow expects \"${expected[$profile]}\""
  fi
  echo "ok   $name: syntax, components $components ($tasks tasks)"
done

for profile in "${!expected[@]}"; do
  [[ " ${seen[*]} " == *" $profile "* ]] || fail "profile $profile has no playbook ($profile.yml)"
done

# --- the lambda profile's templates, rendered for every node ----------------------------------

run "templates do not render" \
  ansible-playbook -i "$inventory" "$ansible_dir/tests/render.yml" -e "render_dir=$work/render"
files="$(find "$work/render" -type f | wc -l)"
nodes="$(find "$work/render" -mindepth 1 -maxdepth 1 -type d | wc -l)"
echo "ok   templates: $files files rendered for $nodes nodes, every *-site.xml parses"

# --- the entrypoint of the configuration container ------------------------------------------

bash -n "$here/container/run-profile.sh" || fail "container/run-profile.sh: bash syntax"
echo "ok   container/run-profile.sh: bash syntax"
