/**
 * What the SSM runner is given (docs/ec2-provider.md, "Configuration"): its profiles, the
 * controller mode's bundle and inputs, its timeouts and where command output goes; checked once,
 * when the provider is made.
 */
import type { ConfigurationInputs } from '#domain/configuration-inputs';
import { PROFILES } from '#domain/profiles';

/** Where `AWS-ApplyAnsiblePlaybooks` downloads playbooks from: its `SourceType` and `SourceInfo`. */
export interface PlaybookSource {
  sourceType: 'S3' | 'GitHub';
  /** e.g. `{ path: 'https://s3.amazonaws.com/<bucket>/configuration.zip' }` for S3. */
  sourceInfo: Record<string, string>;
}

/** How a profile is applied: which SSM document, with which parameters. */
export type SsmRun =
  /** `AWS-RunShellScript`; the node's variables are exported first (`CLUSTER_ID`, `NODE_ROLE`, …). */
  | { kind: 'shell'; commands: string[] }
  /** `AWS-ApplyAnsiblePlaybooks`; the node's variables go into `ExtraVariables`. */
  | { kind: 'ansible'; playbookFile: string; source?: PlaybookSource; installDependencies?: boolean }
  /**
   * Any Command document. When its steps are named after the profile's components, the run
   * reports the component being configured step by step.
   */
  | { kind: 'document'; documentName: string; documentVersion?: string; parameters?: Record<string, string[]> }
  /**
   * The cluster's master as the Ansible controller (needs `controller` in the options):
   * `configuration/container/run-profile.sh <playbook>` runs there against every node, in three
   * `AWS-RunShellScript` stages (prepare, authorize, run). @default playbook: the profile's name
   */
  | { kind: 'controller'; playbook?: string };

export interface SsmProfile {
  /** The profile's steps in order; they become the phases `configure:<component>`. */
  components: string[];
  run: SsmRun;
}

/** What the controller mode needs besides SSM: the bundle, a place for the inputs, and URLs to both. */
export interface ControllerSettings {
  /** `s3://<bucket>/<key>` of the configuration bundle: a zip of configuration/. */
  bundleUri: string;
  /** Where a run's inventory and extra vars are written (`<cluster id>/<attempt>/…`). */
  inputs: ConfigurationInputs;
  /** A GET URL for an `s3://` URI: the master fetches with it, having no S3 rights of its own. */
  presign: (uri: string, expiresInSeconds: number) => Promise<string>;
}

/** The inventory variables every runner that logs in to EC2 nodes gives Ansible: who, and the time source. */
export interface Ec2InventoryVars {
  /** The image's login user, whom the controller key opens the workers as. */
  ansible_user: string;
  ntp_servers: string[];
}

export interface SsmConfigurationOptions {
  /**
   * Profiles by name. `none` is built in (nothing to run); with `controller`, so are `lambda`
   * and `script` (the master as Ansible controller). An entry replaces a built-in one.
   */
  profiles?: Record<string, SsmProfile>;
  /** Enables the controller mode and the built-in `lambda` and `script` profiles. */
  controller?: ControllerSettings;
  /** The playbooks' location, used by `ansible` runs that name no source of their own. */
  playbooks?: PlaybookSource;
  /** How long a node may run its configuration. @default 3600 */
  executionTimeoutSeconds?: number;
  /** How long SSM may take to deliver the command to a node (SendCommand `TimeoutSeconds`). @default 600 */
  deliveryTimeoutSeconds?: number;
  /** Sends the command output to this CloudWatch Logs group; off when absent. */
  cloudWatchLogGroupName?: string;
  /** Keeps the full command output in S3; off when absent (SSM keeps 2500 characters per step). */
  outputS3?: { bucketName: string; keyPrefix?: string };
}

export interface ConfigurationNode {
  id: string;
  name: string;
  role: string;
  /** Known when looked up for a controller stage: the master's holds the controller key to its address. */
  privateIp?: string;
}

/** The components of the seed service's stack, in the order the seed reports them. */
export const LAMBDA_COMPONENTS = PROFILES.lambda;

/** The id of a run with nothing to do: answered without asking SSM. */
export const NONE_RUN = 'none';
/** The login user of Debian's AMIs (the images configuration/ targets first; Ubuntu's is `ubuntu`). */
export const DEFAULT_LOGIN_USER = 'admin';
/** The Amazon Time Sync Service, reachable from every instance. */
const EC2_TIME_SERVER = '169.254.169.123';
/** The built-in profiles of the controller mode: the repository's playbooks as they are. */
const CONTROLLER_PROFILES: Record<string, SsmProfile> = {
  lambda: { components: [...PROFILES.lambda], run: { kind: 'controller' } },
  script: { components: [...PROFILES.script], run: { kind: 'controller' } },
};

export const ec2InventoryVars = (loginUser: string = DEFAULT_LOGIN_USER): Ec2InventoryVars => ({ ansible_user: loginUser, ntp_servers: [EC2_TIME_SERVER] });

/** The options with their defaults, checked: what every part of the runner reads. */
export interface RunnerSettings {
  readonly options: SsmConfigurationOptions;
  /** Marks the commands as this deployment's (`Comment`), so a retried start can find them. */
  readonly serviceTag: string;
  readonly profiles: ReadonlyMap<string, SsmProfile>;
  readonly executionTimeoutSeconds: number;
  readonly deliveryTimeoutSeconds: number;
  /** The controller's inventory variables: the provider's own, so both runners log in alike. */
  readonly inventoryVars: Ec2InventoryVars;
}

/** Throws a plain Error naming the first option it cannot run with (the provider words it as a ConfigError). */
export const runnerSettings = (serviceTag: string, options: SsmConfigurationOptions, inventoryVars: Ec2InventoryVars): RunnerSettings => {
  const executionTimeoutSeconds = options.executionTimeoutSeconds ?? 3600;
  const deliveryTimeoutSeconds = options.deliveryTimeoutSeconds ?? 600;
  // SSM's own bounds: a document's execution timeout up to 48 h, delivery 30 s to 30 days.
  if (!Number.isInteger(executionTimeoutSeconds) || executionTimeoutSeconds < 1 || executionTimeoutSeconds > 172_800) {
    throw new Error(`executionTimeoutSeconds must be a whole number of seconds from 1 to 172800; got ${executionTimeoutSeconds}`);
  }
  if (!Number.isInteger(deliveryTimeoutSeconds) || deliveryTimeoutSeconds < 30 || deliveryTimeoutSeconds > 2_592_000) {
    throw new Error(`deliveryTimeoutSeconds must be a whole number of seconds from 30 to 2592000; got ${deliveryTimeoutSeconds}`);
  }
  // AWS-ApplyAnsiblePlaybooks runs a playbook on each node by itself, which the repository's
  // controller playbooks cannot do: they are built in only where the master can be their controller.
  const profiles = new Map(Object.entries({ ...(options.controller ? CONTROLLER_PROFILES : {}), ...options.profiles }));
  for (const [name, profile] of profiles) {
    if (profile.run.kind === 'controller' && !options.controller) {
      throw new Error(`configuration profile '${name}' runs on the master as controller, but no configuration bundle is set`);
    }
    if (name === NONE_RUN) throw new Error(`configuration profile '${NONE_RUN}' is built in and cannot be configured`);
    if (profile.components.length === 0) throw new Error(`configuration profile '${name}' needs at least one component`);
    if (profile.run.kind === 'ansible' && !profile.run.source && !options.playbooks) {
      throw new Error(`configuration profile '${name}' runs playbooks but neither it nor the settings name a playbook source`);
    }
  }
  return { options, serviceTag, profiles, executionTimeoutSeconds, deliveryTimeoutSeconds, inventoryVars };
};
