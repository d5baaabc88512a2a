/**
 * The configuration profiles (configuration/): the offline Ansible check, where the lambda
 * playbook runs each component, and the container's entrypoint (run-profile.sh) run for real
 * over Ansible's local connection, so no node is needed. The playbooks' components against the
 * profiles catalogue: test/domain/profiles.test.ts.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseComponentLine } from '#domain/component-lines';
import { failureReport, LAMBDA_COMPONENTS } from '#adapters/ec2/ssm/index';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CONFIGURATION = path.join(ROOT, 'configuration');
const ANSIBLE = path.join(CONFIGURATION, 'ansible');
const RUN_PROFILE = path.join(CONFIGURATION, 'container', 'run-profile.sh');

// The first run may install Ansible with apt-get.
const CHECK_TIMEOUT_MS = 300_000;
const RUN_TIMEOUT_MS = 90_000;

interface Play {
  name?: string;
  hosts?: string;
  tags?: string[];
}

const plays = (profile: string): Play[] => parse(readFileSync(path.join(ANSIBLE, `${profile}.yml`), 'utf8')) as Play[];

const stdoutLines = (result: SpawnSyncReturns<string>): string[] => result.stdout.split('\n').filter(Boolean);

describe('the configuration check (configuration/check.sh)', () => {
  it(
    'exits 0 and reports every playbook with its components, the sample inventory and the rendered templates',
    () => {
      const result = spawnSync('bash', [path.join(CONFIGURATION, 'check.sh')], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: CHECK_TIMEOUT_MS,
      });

      expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
      const playbooks = readdirSync(ANSIBLE).filter((file) => file.endsWith('.yml'));
      expect(playbooks.sort()).toEqual(['lambda.yml', 'none.yml', 'script.yml']);
      for (const playbook of playbooks) {
        expect(result.stdout).toMatch(new RegExp(`^ok +${playbook.replace('.', '\\.')}: syntax, components `, 'm'));
      }
      expect(result.stdout).toMatch(/^ok +lambda\.yml: syntax, components common hdfs yarn kafka flink \(\d+ tasks\)$/m);
      expect(result.stdout).toMatch(/^ok +inventory\.sample\.json: master lambda-master, 2 workers$/m);
      expect(result.stdout).toMatch(/^ok +templates: \d+ files rendered for 3 nodes/m);
      expect(result.stdout).not.toMatch(/^FAIL/m);
    },
    CHECK_TIMEOUT_MS,
  );
});

describe('the lambda playbook', () => {
  it('starts the Flink session from the master only, and every other lambda component on every node', () => {
    const hosts = Object.fromEntries(plays('lambda').map((play) => [play.tags?.[0], play.hosts]));

    expect(hosts).toEqual({ common: 'all', hdfs: 'all', yarn: 'all', kafka: 'all', flink: 'master' });
  });
});

describe('the configuration container’s entrypoint (run-profile.sh)', () => {
  let dir: string;
  let inventoryFile: string;

  /** Two "nodes" that are both this machine, over Ansible's local connection and without sudo. */
  const inventory = {
    all: {
      vars: {
        cluster_id: 'c-test',
        cluster_name: 'profile test',
        ansible_connection: 'local',
        ansible_become: false,
        ansible_python_interpreter: '{{ ansible_playbook_python }}',
      },
      children: {
        master: { children: { ng_master: { hosts: { 'node-a': { private_ip: '10.1.0.2', node_group: 'master', node_role: 'master' } } } } },
        workers: { children: { ng_slaves: { hosts: { 'node-b': { private_ip: '10.1.0.3', node_group: 'slaves', node_role: 'worker' } } } } },
      },
    },
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'run-profile-'));
    inventoryFile = path.join(dir, 'inventory.json');
    writeFileSync(inventoryFile, JSON.stringify(inventory));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const runProfile = (profile: string, env: Record<string, string> = {}) =>
    spawnSync('bash', [RUN_PROFILE, profile], {
      encoding: 'utf8',
      timeout: RUN_TIMEOUT_MS,
      env: { ...process.env, CLUSTER_INVENTORY_FILE: inventoryFile, ...env },
    });

  const scriptParameters = (script: string, scriptDir: string, more: Record<string, string> = {}) =>
    JSON.stringify({ script_b64: Buffer.from(script).toString('base64'), script_dir: scriptDir, ...more });

  it(
    'runs the script profile on every node, with the node described in its environment, and reports it OK',
    () => {
      const out = path.join(dir, 'ran');
      const script = `mkdir -p ${out}\necho "$NODE_ROLE $NODE_GROUP $NODE_PRIVATE_IP $MASTER_NAME $CLUSTER_ID" > ${out}/$NODE_NAME\n`;

      const result = runProfile('script', { CLUSTER_EXTRA_VARS_JSON: scriptParameters(script, path.join(dir, 'script-ok')) });

      expect(result.status, result.stderr).toBe(0);
      expect(stdoutLines(result)).toEqual(['COMPONENT script START all', 'COMPONENT script OK all']);
      expect(readFileSync(path.join(out, 'node-a'), 'utf8')).toBe('master master 10.1.0.2 node-a c-test\n');
      expect(readFileSync(path.join(out, 'node-b'), 'utf8')).toBe('worker slaves 10.1.0.3 node-a c-test\n');
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'names the node whose script failed, and only that one, and exits 2',
    () => {
      const script = '[ "$NODE_NAME" != node-b ]\n';

      const result = runProfile('script', { CLUSTER_EXTRA_VARS_JSON: scriptParameters(script, path.join(dir, 'script-fail')) });

      expect(result.status).toBe(2);
      expect(stdoutLines(result)).toEqual(['COMPONENT script START all', 'COMPONENT script FAILED node-b']);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'runs the script only on the nodes script_hosts names, and fails on every node when it names none',
    () => {
      const out = path.join(dir, 'ran-on-master');
      const script = `mkdir -p ${out}\ntouch ${out}/$NODE_NAME\n`;
      const parameters = (scriptHosts: string) =>
        scriptParameters(script, path.join(dir, 'script-hosts'), { script_hosts: scriptHosts });

      const onMaster = runProfile('script', { CLUSTER_EXTRA_VARS_JSON: parameters('master') });
      const onNothing = runProfile('script', { CLUSTER_EXTRA_VARS_JSON: parameters('ng_gpu') });

      expect(onMaster.status, onMaster.stderr).toBe(0);
      expect(readdirSync(out)).toEqual(['node-a']);
      expect(onNothing.status).toBe(2);
      expect(stdoutLines(onNothing)).toEqual([
        'COMPONENT script START all',
        'COMPONENT script FAILED node-a',
        'COMPONENT script FAILED node-b',
      ]);
      expect(onNothing.stderr).toContain('script_hosts \\"ng_gpu\\" matches no node');
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'runs the none profile without touching a node',
    () => {
      const result = runProfile('none');

      expect(result.status, result.stderr).toBe(0);
      expect(stdoutLines(result)).toEqual(['COMPONENT none START all', 'COMPONENT none OK all']);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'ends every line with the cluster and attempt when CLUSTER_ID is set, as the ECS task’s shared log needs',
    () => {
      const result = runProfile('none', { CLUSTER_ID: '35380a49-aae4-4935-9844-dfd6737b8c51', CLUSTER_ATTEMPT: '3' });

      expect(result.status, result.stderr).toBe(0);
      expect(stdoutLines(result)).toEqual([
        'COMPONENT none START all cluster=35380a49-aae4-4935-9844-dfd6737b8c51 attempt=3',
        'COMPONENT none OK all cluster=35380a49-aae4-4935-9844-dfd6737b8c51 attempt=3',
      ]);
      expect(stdoutLines(result).map(parseComponentLine)).toEqual([
        { component: 'none', state: 'START', node: 'all', clusterId: '35380a49-aae4-4935-9844-dfd6737b8c51', attempt: 3 },
        { component: 'none', state: 'OK', node: 'all', clusterId: '35380a49-aae4-4935-9844-dfd6737b8c51', attempt: 3 },
      ]);
    },
    RUN_TIMEOUT_MS,
  );

  it('refuses a CLUSTER_ID or CLUSTER_ATTEMPT that would break the lines, before running anything', () => {
    const spaced = runProfile('none', { CLUSTER_ID: 'a b' });
    const attempt = runProfile('none', { CLUSTER_ID: 'c-1', CLUSTER_ATTEMPT: '0' });

    expect([spaced.status, attempt.status]).toEqual([64, 64]);
    expect(spaced.stdout + attempt.stdout).toBe('');
    expect(spaced.stderr).toContain('CLUSTER_ID must be');
    expect(attempt.stderr).toContain('CLUSTER_ATTEMPT must be');
  });

  it('refuses a parameter that would override an Ansible connection variable, before running anything', () => {
    const result = runProfile('script', { CLUSTER_EXTRA_VARS_JSON: JSON.stringify({ ansible_host: 'elsewhere', script_b64: 'ZWNobwo=' }) });

    expect(result.status).toBe(64);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('parameter "ansible_host" is not allowed');
  });

  it('refuses a profile that has no playbook', () => {
    const result = runProfile('hadoop-only');

    expect(result.status).toBe(64);
    expect(result.stderr).toContain('unknown profile "hadoop-only"');
  });

  describe('with the inputs passed by reference (s3:// URIs; boto3 replaced by a stand-in reading a directory, so nothing leaves the machine)', () => {
    let stubDir: string;
    let root: string;
    let fetchLog: string;
    const BUCKET = 'clusterservice-configurationinputs-1a2b3c';

    beforeAll(() => {
      stubDir = mkdtempSync(path.join(tmpdir(), 'boto3-stub-'));
      root = path.join(stubDir, 'buckets');
      fetchLog = path.join(stubDir, 'fetched.log');
      // The one call run-profile.sh makes: client("s3").get_object(Bucket=…, Key=…)["Body"].read().
      const module = path.join(stubDir, 'python', 'boto3');
      mkdirSync(module, { recursive: true });
      writeFileSync(
        path.join(module, '__init__.py'),
        `import os


class _Body:
    def __init__(self, data):
        self._data = data

    def read(self):
        return self._data


class _S3:
    def get_object(self, Bucket, Key):
        with open(os.environ["STUB_S3_LOG"], "a") as log:
            log.write(f"{Bucket} {Key}\\n")
        path = os.path.join(os.environ["STUB_S3_ROOT"], Bucket, Key)
        if not os.path.isfile(path):
            raise Exception(f"An error occurred (NoSuchKey) when calling the GetObject operation: {Key}")
        with open(path, "rb") as f:
            return {"Body": _Body(f.read())}


def client(name):
    assert name == "s3", name
    return _S3()
`,
      );
      const put = (key: string, body: string) => {
        mkdirSync(path.dirname(path.join(root, BUCKET, key)), { recursive: true });
        writeFileSync(path.join(root, BUCKET, key), body);
      };
      put('inputs/c-1/1/inventory.json', JSON.stringify(inventory));
      put('inputs/c-1/1/extra-vars.json', scriptParameters(`touch ${JSON.stringify(path.join(stubDir, 'ran-$NODE_NAME'))}\n`, path.join(stubDir, 'script')));
    });

    afterAll(() => rmSync(stubDir, { recursive: true, force: true }));

    const byReference = (inventoryUri: string, extraVarsUri?: string) => {
      rmSync(fetchLog, { force: true });
      const result = runProfile('script', {
        PYTHONPATH: path.join(stubDir, 'python'),
        STUB_S3_ROOT: root,
        STUB_S3_LOG: fetchLog,
        CLUSTER_INVENTORY_S3_URI: inventoryUri,
        ...(extraVarsUri ? { CLUSTER_EXTRA_VARS_S3_URI: extraVarsUri } : {}),
      });
      const fetched = existsSync(fetchLog) ? readFileSync(fetchLog, 'utf8').split('\n').filter(Boolean) : [];
      return { result, fetched };
    };

    it(
      'fetches the inventory and the parameters from their s3:// URIs before it runs',
      () => {
        const { result, fetched } = byReference(`s3://${BUCKET}/inputs/c-1/1/inventory.json`, `s3://${BUCKET}/inputs/c-1/1/extra-vars.json`);

        expect(result.status, result.stderr).toBe(0);
        expect(fetched).toEqual([`${BUCKET} inputs/c-1/1/inventory.json`, `${BUCKET} inputs/c-1/1/extra-vars.json`]);
        expect(stdoutLines(result)).toEqual(['COMPONENT script START all', 'COMPONENT script OK all']);
        // The script came from the fetched parameters and ran on the fetched inventory's nodes.
        expect(readdirSync(stubDir).filter((name) => name.startsWith('ran-')).sort()).toEqual(['ran-node-a', 'ran-node-b']);
      },
      RUN_TIMEOUT_MS,
    );

    it.each([
      ['not an s3 URI', 'https://example.com/inventory.json'],
      ['a bucket name S3 does not allow', 's3://Config_Inputs/inputs/c-1/1/inventory.json'],
      ['no key', `s3://${BUCKET}/`],
    ])('refuses %s with exit 64, asking S3 nothing', (_what, uri) => {
      const { result, fetched } = byReference(uri);

      expect(result.status).toBe(64);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('the inventory URI is not s3://<bucket>/<key>');
      expect(fetched).toEqual([]);
    });

    it('exits 64 naming the URI when the object cannot be fetched', () => {
      const { result } = byReference(`s3://${BUCKET}/inputs/c-1/9/inventory.json`);

      expect(result.status).toBe(64);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`cannot fetch the inventory from s3://${BUCKET}/inputs/c-1/9/inventory.json`);
      expect(result.stderr).toContain('NoSuchKey');
    });
  });

  describe('with ansible-playbook replaced by a stand-in that fails one component', () => {
    let stubDir: string;
    let tagLog: string;

    beforeAll(() => {
      const real = spawnSync('bash', ['-c', 'command -v ansible-playbook'], { encoding: 'utf8' }).stdout.trim();
      expect(existsSync(real), 'ansible-playbook must be installed (configuration/check.sh installs it)').toBe(true);
      stubDir = mkdtempSync(path.join(tmpdir(), 'ansible-stub-'));
      tagLog = path.join(stubDir, 'tags.log');
      // Lists tags with the real Ansible, so the components come from lambda.yml itself; a run
      // only records its tag, and the failing one ends with a recap like Ansible's.
      const stub = path.join(stubDir, 'ansible-playbook');
      writeFileSync(
        stub,
        `#!/usr/bin/env bash
if [[ " $* " == *" --list-tags "* ]]; then exec ${JSON.stringify(real)} "$@"; fi
while (($#)); do [[ $1 == --tags ]] && tag=$2; shift; done
echo "$tag" >> ${JSON.stringify(tagLog)}
echo "PLAY RECAP *********************************************************************"
if [[ $tag == "$STUB_FAIL_TAG" ]]; then
  echo "lambda-master              : ok=9    changed=2    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0   "
  echo "lambda-slave-1             : ok=3    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0   "
  echo "lambda-slave-2             : ok=4    changed=1    unreachable=0    failed=1    skipped=0    rescued=0    ignored=0   "
  exit 2
fi
echo "lambda-master              : ok=9    changed=2    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0   "
`,
      );
      chmodSync(stub, 0o755);
    });

    afterAll(() => rmSync(stubDir, { recursive: true, force: true }));

    const runLambda = (env: Record<string, string>) => {
      rmSync(tagLog, { force: true });
      const result = runProfile('lambda', { PATH: `${stubDir}:${process.env.PATH ?? ''}`, STUB_FAIL_TAG: '', ...env });
      const tags = existsSync(tagLog) ? readFileSync(tagLog, 'utf8').split('\n').filter(Boolean) : [];
      return { result, tags };
    };

    it(
      'runs one tag per component in the playbook’s order and stops at the failed one, naming every node it blames',
      () => {
        const { result, tags } = runLambda({ STUB_FAIL_TAG: 'kafka' });

        expect(result.status).toBe(2);
        expect(tags).toEqual(['common', 'hdfs', 'yarn', 'kafka']);
        expect(stdoutLines(result)).toEqual([
          'COMPONENT common START all',
          'COMPONENT common OK all',
          'COMPONENT hdfs START all',
          'COMPONENT hdfs OK all',
          'COMPONENT yarn START all',
          'COMPONENT yarn OK all',
          'COMPONENT kafka START all',
          'COMPONENT kafka FAILED lambda-slave-1',
          'COMPONENT kafka FAILED lambda-slave-2',
        ]);
      },
      RUN_TIMEOUT_MS,
    );

    it(
      'identifies the FAILED lines too, and the ssm runner’s parser still finds the component and node in them',
      () => {
        const { result } = runLambda({ STUB_FAIL_TAG: 'hdfs', CLUSTER_ID: 'c-42', CLUSTER_ATTEMPT: '2' });

        expect(result.status).toBe(2);
        expect(stdoutLines(result).slice(-2)).toEqual([
          'COMPONENT hdfs FAILED lambda-slave-1 cluster=c-42 attempt=2',
          'COMPONENT hdfs FAILED lambda-slave-2 cluster=c-42 attempt=2',
        ]);
        expect(failureReport(result.stdout, LAMBDA_COMPONENTS)).toEqual({ component: 'hdfs', node: 'lambda-slave-1' });
      },
      RUN_TIMEOUT_MS,
    );

    it(
      'resumes from the components named in COMPONENTS, in the playbook’s order whatever order they are given in',
      () => {
        const { result, tags } = runLambda({ COMPONENTS: 'flink,kafka' });

        expect(result.status, result.stderr).toBe(0);
        expect(tags).toEqual(['kafka', 'flink']);
        expect(stdoutLines(result).at(-1)).toBe('COMPONENT flink OK all');
      },
      RUN_TIMEOUT_MS,
    );
  });
});
