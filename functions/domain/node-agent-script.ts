/**
 * The cloud-init runner's node agent (docs/cloud-init-runner.md): the user data every node of a
 * cluster configured by `cloud-init` boots with. cloud-init runs it once, as root, at first boot.
 * It is bash with python3 for HTTP and JSON (python3 is on every image cloud-init runs on, since
 * cloud-init is written in it): curl and jq are not.
 *
 * The agent asks the service what to do (#domain/node-agents) and does it, until it is told to
 * stop or its lifetime is over:
 * - master: make the controller key (#domain/controller-scripts) and send its public half; when
 *   the run is released, fetch the configuration bundle, run `run-profile.sh` with the inventory and
 *   parameters it was given, send each `COMPONENT` line and then the exit status;
 * - worker: once the master's key is known, let it in as the login user (from the master's
 *   address only) and say so.
 *
 * Values from the service go into the script single-quoted (shellQuote). Two variables a test
 * harness may set, which cloud-init never does: `CS_STATE_DIR` (the agent's folder, by default
 * the controller's) and `CS_HOME` (the home whose `authorized_keys` a worker writes, by default the
 * login user's, then owned by that user).
 */
import { createHash } from 'node:crypto';
import { authorizeLines, CONTROLLER_DIR, CONTROLLER_KEY_MARKER, prepareScript, shellQuote } from './controller-scripts.ts';

export interface NodeAgentInput {
  /** `<service>/v1/clusters/<id>/node-reports`. */
  reportUrl: string;
  /** The cluster's node secret (#domain/node-agents). */
  secret: string;
  /** The server's name, as the cluster lists it. */
  node: string;
  role: 'master' | 'worker';
  /** The image's login user: the workers let the controller key in as this user. */
  loginUser: string;
  /** How long the agent keeps asking, in seconds. @default 86400 */
  lifetimeSeconds?: number;
}

/** The agent's helper: one report, its answer as shell assignments; or a download. */
const REPORT_PY = String.raw`import json, os, shlex, sys, time, urllib.error, urllib.request

state = os.environ["CS_STATE_DIR"]
deadline = float(os.environ["CS_DEADLINE"])

def request(url, data=None, headers=None):
    pause = 1
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"), timeout=60) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            if error.code != 429 and error.code < 500:
                return error.code, error.read()
        except (urllib.error.URLError, OSError, ValueError) as error:
            sys.stderr.write("agent: %s: %s\n" % (url.split("?")[0], error))
        if time.time() + pause > deadline:
            sys.exit(1)
        time.sleep(pause)
        pause = min(pause * 2, 30)

if sys.argv[1] == "download":
    status, body = request(sys.argv[2])
    if status != 200:
        sys.stderr.write("agent: the download answered %d\n" % status)
        sys.exit(1)
    with open(sys.argv[3], "wb") as out:
        out.write(body)
    sys.exit(0)

report = {"type": sys.argv[1], "node": os.environ["CS_NODE"]}
for argument in sys.argv[2:]:
    key, value = argument.split("=", 1)
    report[key] = int(value) if key in ("attempt", "exitCode") else value
if report["type"] == "lines":
    report["lines"] = [line.rstrip("\n") for line in sys.stdin if line.strip()][:200]
with open(os.path.join(state, "secret")) as kept:
    secret = kept.read().strip()
status, body = request(os.environ["CS_REPORT_URL"], json.dumps(report).encode(), {"Content-Type": "application/json", "Authorization": "Node " + secret})
if status in (401, 403, 404, 410):
    print("next=stop reason=%s" % shlex.quote("the service answered %d" % status))
    sys.exit(0)
if status >= 300:
    sys.stderr.write("agent: the service refused the %s report (%d): %s\n" % (report["type"], status, body[:500]))
    sys.exit(1)
answer = json.loads(body)
for name in ("inventory", "extraVars"):
    if name in answer:
        with open(os.path.join(state, name + ".json"), "w") as out:
            json.dump(answer[name], out)
for name in ("next", "seconds", "reason", "publicKey", "masterIp", "attempt", "profile", "bundleUrl"):
    if name in answer:
        print("%s=%s" % (name, shlex.quote(str(answer[name]))))
`;

const UNZIP_PY = 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])';

/** The agent's script: a `#!/bin/bash` file, as user data or to run by hand. */
export const nodeAgentScript = (input: NodeAgentInput): string => `#!/bin/bash
# cluster-service node agent (cloud-init runner): asks the service what to do, and does it.
set -u
CS_REPORT_URL=${shellQuote(input.reportUrl)}
CS_NODE=${shellQuote(input.node)}
CS_ROLE=${shellQuote(input.role)}
CS_LOGIN_USER=${shellQuote(input.loginUser)}
CS_STATE_DIR=\${CS_STATE_DIR:-${CONTROLLER_DIR}}
CS_DEADLINE=$(( $(date +%s) + ${input.lifetimeSeconds ?? 86_400} ))
export CS_REPORT_URL CS_NODE CS_STATE_DIR CS_DEADLINE
umask 077
mkdir -p "$CS_STATE_DIR"
chmod 700 "$CS_STATE_DIR"
printf '%s\\n' ${shellQuote(input.secret)} >"$CS_STATE_DIR/secret"
cat >"$CS_STATE_DIR/report.py" <<'REPORT_PY'
${REPORT_PY}REPORT_PY

# One report; its answer becomes the variables next, seconds, reason, … (nothing else).
cs_report() {
  local answer
  next='' seconds=5 reason='' publicKey='' masterIp='' attempt='' profile='' bundleUrl=''
  answer=$(python3 "$CS_STATE_DIR/report.py" "$@") || answer="next=wait seconds=5 reason='the report failed'"
  eval "$answer"
}

# The controller key, made once: its public half on stdout.
cs_prepare() (
${prepareScript({ dir: '"$CS_STATE_DIR"' }).join('\n')}
)

# Lets the controller key $1 in from the master's address $2.
cs_authorize() (
  set -eu
  key=$1
  case $key in ssh-ed25519\\ *) ;; *) echo "agent: not a controller key: $key" >&2; exit 1 ;; esac
  case $2 in *[!0-9a-fA-F.:]*|'') echo "agent: not an address: $2" >&2; exit 1 ;; esac
  entry="from=\\"$2\\" $key cluster-controller"
  user=$CS_LOGIN_USER
  if [ -n "\${CS_HOME:-}" ]; then
    home=$CS_HOME
    owner=''
  else
    home=$(getent passwd "$user" | cut -d : -f 6)
    if [ -z "$home" ]; then
      echo "agent: the login user $user does not exist on this node" >&2
      exit 1
    fi
    owner="$user:$(id -gn "$user")"
  fi
${authorizeLines().map((line) => `  ${line}`).join('\n')}
)

# The released run: the bundle, then run-profile.sh, each COMPONENT line sent as it comes.
cs_run() {
  local work
  work=$(mktemp -d "$CS_STATE_DIR/run.XXXXXX")
  status=64
  if python3 "$CS_STATE_DIR/report.py" download "$bundleUrl" "$work/bundle.zip" &&
    python3 -c ${shellQuote(UNZIP_PY)} "$work/bundle.zip" "$work/configuration"; then
    CLUSTER_INVENTORY_FILE="$CS_STATE_DIR/inventory.json" CLUSTER_EXTRA_VARS_FILE="$CS_STATE_DIR/extraVars.json" \\
      SSH_PRIVATE_KEY_FILE="$CS_STATE_DIR/id_ed25519" bash "$work/configuration/container/run-profile.sh" "$profile" |
      while IFS= read -r line; do
        printf '%s\\n' "$line"
        case $line in COMPONENT\\ *) printf '%s\\n' "$line" | python3 "$CS_STATE_DIR/report.py" lines "attempt=$attempt" >/dev/null ;; esac
      done
    status=\${PIPESTATUS[0]}
  else
    echo "agent: the configuration bundle could not be fetched or unpacked" >&2
  fi
  rm -rf "$work"
}

cs_report poll
while :; do
  if [ "$(date +%s)" -ge "$CS_DEADLINE" ]; then
    echo "agent: stopping: its lifetime is over"
    exit 1
  fi
  case $next in
    controller-key)
      key=$(cs_prepare | sed -n 's/^${CONTROLLER_KEY_MARKER} //p')
      if [ -n "$key" ]; then cs_report controller-key "publicKey=$key"; else sleep 30; cs_report poll; fi
      ;;
    authorize)
      if cs_authorize "$publicKey" "$masterIp"; then cs_report authorized; else sleep 30; cs_report poll; fi
      ;;
    run)
      cs_run
      cs_report result "attempt=$attempt" "exitCode=$status"
      [ "$next" = ok ] && cs_report poll
      ;;
    stop)
      echo "agent: done ($reason)"
      exit 0
      ;;
    *)
      sleep "$seconds"
      cs_report poll
      ;;
  esac
done
`;

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** cloud-init's MIME type for a part, from its first line as cloud-init itself tells them apart. */
const partType = (content: string): string => {
  const first = content.slice(0, content.indexOf('\n') === -1 ? undefined : content.indexOf('\n'));
  if (first.startsWith('#cloud-config')) return 'text/cloud-config';
  if (first.startsWith('#!')) return 'text/x-shellscript';
  if (first.startsWith('#include')) return 'text/x-include-url';
  if (first.startsWith('#cloud-boothook')) return 'text/cloud-boothook';
  return 'text/plain';
};

/**
 * The user data of a node: the agent alone, or, when the client gave user data of its own (base64),
 * a MIME multipart of both that cloud-init runs part by part — the client's first. Base64.
 */
export const nodeUserData = (agent: string, clientUserData?: string): string => {
  if (clientUserData === undefined) return base64(agent);
  const client = Buffer.from(clientUserData, 'base64').toString('utf8');
  // A digest of both parts cannot be a line of either.
  const boundary = `==${createHash('sha256').update(client).update('\u0000').update(agent).digest('hex')}==`;
  const part = (content: string, name: string) =>
    [`--${boundary}`, `Content-Type: ${partType(content)}; charset="utf-8"`, 'MIME-Version: 1.0', `Content-Disposition: attachment; filename="${name}"`, '', content].join('\n');
  return base64([`Content-Type: multipart/mixed; boundary="${boundary}"`, 'MIME-Version: 1.0', '', part(client, 'client'), part(agent, 'cluster-service-agent'), `--${boundary}--`, ''].join('\n'));
};
