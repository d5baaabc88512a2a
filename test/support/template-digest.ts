/**
 * The stack's template reduced to what a restructuring of infra/aws must keep: every resource's
 * type, properties and deployment attributes, and the outputs. Asset hashes (the functions'
 * bundles, the workflow files, the configuration bundle) are normalised away, since they change
 * with any source file; statement lists are put in a canonical order, since IAM does not read
 * them in order. test/infra/template-equivalence.test.ts compares the stack with the digest kept
 * in test/infra/fixtures/; `npx tsx test/support/template-digest.ts` writes that digest anew.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EC2_CONTEXT, synthesize } from './cdk.ts';

/**
 * The contexts the digest covers: each adds resources and grants the others lack, and the `ec2`
 * one gives every optional setting, so each variable shows on the functions that get it.
 */
export const DIGEST_CONTEXTS = {
  default: {},
  ec2: {
    ...EC2_CONTEXT,
    ec2KeyName: 'ops',
    ec2LoginUser: 'ubuntu',
    serviceTag: 'clusters-prod',
    quotaMaxVcpus: '256',
    quotaMaxServers: '64',
    quotaMaxClusters: '10',
    configurationAgentTimeoutSeconds: '900',
  },
  'ec2+container': {
    ...EC2_CONTEXT,
    configurationImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/cluster-configuration:2025.1',
    configurationSshKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cluster-ssh-key-AbCdEf',
  },
} as const satisfies Record<string, Record<string, unknown>>;

export type DigestContext = keyof typeof DIGEST_CONTEXTS;

/** The stack's id in app.ts: names made from the stack name come out as they are deployed. */
const STACK_ID = 'ClusterService';

export const BASELINE_FILE = fileURLToPath(new URL('../infra/fixtures/template-baseline.json', import.meta.url));

export interface ResourceDigest {
  readonly Type: string;
  readonly Properties?: unknown;
  readonly DependsOn?: unknown;
  readonly DeletionPolicy?: unknown;
  readonly UpdateReplacePolicy?: unknown;
  readonly Condition?: unknown;
}

export interface TemplateDigest {
  readonly resources: Record<string, ResourceDigest>;
  readonly outputs: Record<string, unknown>;
}

/** An asset's content hash, as it appears in S3 keys and asset parameters. */
const ASSET_HASH = /[0-9a-f]{64}/g;

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** `value` with sorted keys, asset hashes replaced and statement lists sorted, at every depth. */
const canonical = (value: unknown): unknown => {
  if (typeof value === 'string') return value.replace(ASSET_HASH, '<asset-hash>');
  if (Array.isArray(value)) return value.map(canonical);
  if (!isObject(value)) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const item = canonical(value[key]);
    sorted[key] = key === 'Statement' && Array.isArray(item) ? [...item].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : item;
  }
  return sorted;
};

const KEPT_ATTRIBUTES = ['Type', 'Properties', 'DependsOn', 'DeletionPolicy', 'UpdateReplacePolicy', 'Condition'] as const;

/** The digest of a synthesized template (`Template.toJSON()`). */
export const digestOf = (template: Record<string, unknown>): TemplateDigest => {
  const resources = (template.Resources ?? {}) as Record<string, Record<string, unknown>>;
  return {
    resources: Object.fromEntries(
      Object.keys(resources)
        .sort()
        .map((id) => {
          const resource = resources[id] ?? {};
          const kept = Object.fromEntries(KEPT_ATTRIBUTES.filter((attribute) => resource[attribute] !== undefined).map((attribute) => [attribute, resource[attribute]]));
          return [id, canonical(kept) as ResourceDigest];
        }),
    ),
    outputs: canonical(template.Outputs ?? {}) as Record<string, unknown>,
  };
};

/** The stack synthesized in `context`, without bundling the functions (their hashes are normalised away). */
export const digestStack = (context: DigestContext): TemplateDigest =>
  digestOf(synthesize(STACK_ID, { 'aws:cdk:bundling-stacks': [], ...DIGEST_CONTEXTS[context] }).template.toJSON());

/** Every IAM statement of the digest, as `<logical id> <property path>: <statement>`, sorted. */
export const iamStatementsOf = (digest: TemplateDigest): string[] => {
  const found: string[] = [];
  const visit = (value: unknown, where: string): void => {
    if (Array.isArray(value)) value.forEach((item, index) => visit(item, `${where}[${index}]`));
    if (!isObject(value)) return;
    for (const [key, item] of Object.entries(value)) {
      if (key === 'Statement' && Array.isArray(item)) for (const statement of item) found.push(`${where}: ${JSON.stringify(statement)}`);
      else visit(item, `${where}.${key}`);
    }
  };
  for (const [id, resource] of Object.entries(digest.resources)) visit(resource.Properties, id);
  return found.sort();
};

/** One resource a line, so a change to the baseline reads as a diff of the resources it touches. */
const serialize = (baseline: Record<string, TemplateDigest>): string => {
  const entries = (record: Record<string, unknown>, indent: string) =>
    Object.entries(record)
      .map(([key, value]) => `${indent}${JSON.stringify(key)}: ${JSON.stringify(value)}`)
      .join(',\n');
  const contexts = Object.entries(baseline).map(
    ([context, digest]) =>
      `  ${JSON.stringify(context)}: {\n    "resources": {\n${entries(digest.resources, '      ')}\n    },\n    "outputs": {\n${entries(digest.outputs, '      ')}\n    }\n  }`,
  );
  return `{\n${contexts.join(',\n')}\n}\n`;
};

export const readBaseline = (): Record<DigestContext, TemplateDigest> => JSON.parse(readFileSync(BASELINE_FILE, 'utf8')) as Record<DigestContext, TemplateDigest>;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const baseline = Object.fromEntries((Object.keys(DIGEST_CONTEXTS) as DigestContext[]).map((context) => [context, digestStack(context)]));
  writeFileSync(BASELINE_FILE, serialize(baseline));
  console.log(`wrote ${path.relative(process.cwd(), BASELINE_FILE)}`);
}
