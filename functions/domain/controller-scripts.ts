/**
 * The shell of a controller on the master: what the ssm runner's controller mode sends with
 * AWS-RunShellScript (docs/ec2-provider.md, "Controller mode") — `prepare` on the master,
 * `authorize` on every worker, `run` on the master — and what the cloud-init runner's node agents
 * run from their user data (#domain/node-agent-script).
 *
 * The agent runs the lines with `sh`, which is dash on Debian and Ubuntu, so they are POSIX sh.
 * Every value from outside (URLs, names, the key) goes in single-quoted; nothing here is a secret:
 * the controller's private key is made on the master and never leaves it.
 */

/** Root-only, on the master: the controller's key, and the lock that keeps two runs apart. */
export const CONTROLLER_DIR = '/var/lib/cluster-controller';
export const CONTROLLER_KEY_FILE = `${CONTROLLER_DIR}/id_ed25519`;
/** The line `prepare` prints on stdout, and nothing else. */
export const CONTROLLER_KEY_MARKER = 'CONTROLLER_KEY';
/** Comment of the key on the workers, so an operator can tell what put it there. */
const KEY_COMMENT = 'cluster-controller';

/** A public key as `prepare` prints it: type and base64 only, so it can go into authorized_keys as it is. */
export const PUBLIC_KEY = /^ssh-ed25519 [A-Za-z0-9+/]+={0,3}$/;

export const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

const lines = (script: string): string[] => script.split('\n');

/** The controller's public key from `prepare`'s standard output; undefined when it printed none. */
export const controllerKeyFrom = (output: string): string | undefined => {
  for (const line of output.split(/\r?\n/)) {
    const key = line.startsWith(`${CONTROLLER_KEY_MARKER} `) ? line.slice(CONTROLLER_KEY_MARKER.length + 1).trim() : undefined;
    if (key !== undefined && PUBLIC_KEY.test(key)) return key;
  }
  return undefined;
};

/**
 * Installs Ansible where it is missing and makes the controller key once, in `dir` (a shell word:
 * the fixed folder, or a variable the caller set). The package managers talk on stderr, so stdout
 * carries the key line alone. Two runs at once keep one key: the key is made under a temporary
 * name and linked into place, which fails for the second.
 */
export const prepareScript = (options: { dir?: string } = {}): string[] =>
  lines(`set -eu
exec 3>&1 1>&2
if ! command -v ansible-playbook >/dev/null 2>&1 || ! command -v ssh >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    # A fresh image may be upgrading itself: wait for dpkg's lock instead of failing.
    apt-get -q -o DPkg::Lock::Timeout=600 update
    apt-get -q -y -o DPkg::Lock::Timeout=600 install --no-install-recommends ansible-core openssh-client
  elif command -v dnf >/dev/null 2>&1; then
    dnf -q -y install ansible-core openssh-clients
  else
    echo "prepare: ansible-core is missing and neither apt-get nor dnf is here to install it"
    exit 1
  fi
fi
umask 077
dir=${options.dir ?? CONTROLLER_DIR}
mkdir -p "$dir"
chmod 700 "$dir"
if [ ! -e "$dir/id_ed25519" ]; then
  new="$dir/id_ed25519.new.$$"
  rm -f "$new" "$new.pub"
  ssh-keygen -q -t ed25519 -N '' -C ${KEY_COMMENT} -f "$new" </dev/null
  ln "$new" "$dir/id_ed25519" 2>/dev/null || true
  rm -f "$new" "$new.pub"
fi
public_key=$(ssh-keygen -y -f "$dir/id_ed25519" | cut -d ' ' -f 1,2)
printf '${CONTROLLER_KEY_MARKER} %s\\n' "$public_key" >&3`);

/** The `authorized_keys` line of the controller key: held to the master's address when it is known. */
export const authorizedKeyEntry = (publicKey: string, masterIp?: string): string => `${masterIp ? `from="${masterIp}" ` : ''}${publicKey} ${KEY_COMMENT}`;

/**
 * Lets the key in `$key` in as the user `$user` whose home is `$home`, with the line `$entry`,
 * once: a key already there is not added again. `$owner` (user:group) owns what it writes, when set.
 */
export const authorizeLines = (): string[] =>
  lines(`mkdir -p "$home/.ssh"
chmod 700 "$home/.ssh"
file="$home/.ssh/authorized_keys"
if ! grep -qsF "$key" "$file"; then
  printf '%s\\n' "$entry" >>"$file"
fi
chmod 600 "$file"
if [ -n "$owner" ]; then
  chown "$owner" "$home/.ssh" "$file"
fi`);

/**
 * Lets the master's controller key in as the login user, once: a key already there is not added
 * again. `from=` holds the key to the master's address, so it opens nothing from anywhere else.
 */
export const authorizeScript = (input: { loginUser: string; publicKey: string; masterIp?: string }): string[] => {
  if (!PUBLIC_KEY.test(input.publicKey)) throw new Error('the controller key is not an ssh-ed25519 public key');
  return [
    ...lines(`set -eu
user=${shellQuote(input.loginUser)}
key=${shellQuote(input.publicKey)}
entry=${shellQuote(authorizedKeyEntry(input.publicKey, input.masterIp))}
home=$(getent passwd "$user" | cut -d : -f 6)
if [ -z "$home" ]; then
  echo "authorize: the login user $user does not exist on this node" >&2
  exit 1
fi
owner="$user:$(id -gn "$user")"`),
    ...authorizeLines(),
  ];
};

/**
 * Fetches the bundle and the run's inputs through presigned URLs (the node's role reads no
 * bucket), runs the profile as the container would, and leaves nothing of them behind. A second
 * run at the same time waits for the first (the playbooks are idempotent, so it finds little to do).
 */
export const runScript = (input: { profile: string; bundleUrl: string; inventoryUrl: string; extraVarsUrl: string }): string[] =>
  lines(`set -eu
umask 077
work=$(mktemp -d /tmp/cluster-configuration.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 143' HUP INT TERM
fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS --retry 3 --max-time 900 -o "$2" "$1"
  else
    python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' "$1" "$2"
  fi
}
fetch ${shellQuote(input.bundleUrl)} "$work/bundle.zip"
fetch ${shellQuote(input.inventoryUrl)} "$work/inventory.json"
fetch ${shellQuote(input.extraVarsUrl)} "$work/extra-vars.json"
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$work/bundle.zip" "$work/configuration"
exec 9>${CONTROLLER_DIR}/run.lock
if command -v flock >/dev/null 2>&1; then
  flock 9
fi
CLUSTER_INVENTORY_FILE="$work/inventory.json" CLUSTER_EXTRA_VARS_FILE="$work/extra-vars.json" SSH_PRIVATE_KEY_FILE=${CONTROLLER_KEY_FILE} \\
  bash "$work/configuration/container/run-profile.sh" ${shellQuote(input.profile)}`);
