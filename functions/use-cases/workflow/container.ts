/**
 * The container runner: "Prepare the configuration container" records CONFIGURING and hands the
 * workflow the container's environment; the ECS task itself is the next state's
 * (`ecs:runTask.sync`), and "Name the configuration failure" names what it failed at.
 */
import { ConfigurationFailed, ConfigurationReportPending, ContainerRunnerUnavailable } from '#domain/errors';
import type { StepFailure } from '#domain/failed-step';
import { containerDocuments, containerEnvironment } from '#domain/configuration-inventory';
import { MASTER_ROLE } from '#domain/model';
import { loginUserOf } from '#domain/providers';
import { nodeResults } from './configuration.ts';
import type { StepContext } from './context.ts';

/** run-profile.sh's exit status when a component failed (configuration/README.md). */
export const COMPONENT_FAILED_EXIT = 2;

const ids = (list: string | undefined): string[] => (list ?? '').split(',').map((id) => id.trim()).filter(Boolean);

export const prepareContainer = async (ctx: StepContext) => {
  const cluster = await ctx.load();
  const { config } = ctx.deps;
  // Recorded first, so a refusal below is reported as this step's failure.
  // No deadline is recorded: no step runs while the task does; the ECS state's TimeoutSeconds bounds it.
  await ctx.enter('CONFIGURING', 'configure:container', `configuration '${cluster.spec.configuration.profile}' runs in the configuration container`);
  if (!config.CONTAINER_RUNNER_ENABLED) {
    throw new ContainerRunnerUnavailable('this deployment has no configuration container (CDK context configurationImage); use the ssm runner');
  }
  const provider = ctx.provider(cluster);
  // The task joins the network the provider says admits the nodes to each other, which is how
  // it reaches them on 22.
  const viaNetwork = provider.configurationNetwork === 'first-private-network' ? cluster.networks.slice(0, 1) : [];
  if (provider.configurationNetwork === 'first-private-network' && viaNetwork.length === 0) {
    throw new ContainerRunnerUnavailable('the configuration container reaches the nodes through a private network; this cluster has none (network.privateNetworks 0)');
  }
  // Or through the master, at its public address, with the image's login user.
  const master = cluster.servers.find((server) => server.role === MASTER_ROLE);
  if (provider.configurationNetwork === 'through-master' && !master?.publicIp) {
    throw new ContainerRunnerUnavailable(`the configuration container reaches ${provider.name} nodes through the master's public address; this cluster's master has none (network.publicIp ${cluster.spec.network.publicIp})`);
  }
  const jumpHost = provider.configurationNetwork === 'through-master' ? [{ Name: 'SSH_JUMP_HOST', Value: `${loginUserOf(provider)}@${master?.publicIp}` }] : [];
  // By reference whenever the deployment has the bucket: ECS refuses more than 8 KiB of
  // overrides, and one path for every cluster size is one path to trust. Keyed by attempt, so a
  // retried step writes the same objects and a retried cluster never reads an older attempt's.
  const documents = containerDocuments(cluster, { ...provider.inventoryVars });
  const { inputs } = ctx.deps;
  const prefix = `${cluster.id}/${cluster.attempt}`;
  const passed = inputs
    ? { inventoryUri: await inputs.put(`${prefix}/inventory.json`, documents.inventory), extraVarsUri: await inputs.put(`${prefix}/extra-vars.json`, documents.extraVars) }
    : documents;
  return {
    environment: [...containerEnvironment(cluster, passed), ...jumpHost],
    subnets: ids(config.CONFIGURATION_SUBNETS),
    securityGroups: [...ids(config.CONFIGURATION_SECURITY_GROUPS), ...viaNetwork],
  };
};

/**
 * On the failure path of "Run the configuration container": runTask.sync reports only the exit
 * code, so a component's failure is named from what the configuration-progress function recorded
 * from the container's `COMPONENT … FAILED <node>` lines — the code the ssm runner uses
 * (ConfigurationFailed), the component and nodes in the message, the exit code and stop reason
 * kept. Any other failure (bad input, a task that never ran, a timeout) is not named: `named` is
 * absent and the caught error stands. A named one replaces the caught error the rollback records.
 */
export const nameContainerFailure = async (ctx: StepContext, failure: StepFailure | undefined): Promise<{ named?: StepFailure }> => {
  if (failure?.exitCode !== COMPONENT_FAILED_EXIT) return {};
  const cluster = await ctx.load();
  const report = cluster.configurationReport?.attempt === cluster.attempt ? cluster.configurationReport.failure : undefined;
  if (!report) {
    // The line is on its way through the log group's subscription; the state's Retry is the wait.
    throw new ConfigurationReportPending(`the configuration container exited with code ${COMPONENT_FAILED_EXIT}; its COMPONENT … FAILED line has not been recorded yet`);
  }
  // The nodes to blame, on their servers (the container reports no other node's result).
  await ctx.update((current) => {
    const blamed = nodeResults(current.servers, Object.fromEntries(report.nodes.map((node) => [node, { state: 'FAILED' as const, message: `failed at ${report.component}` }])));
    return 'servers' in blamed ? blamed : null;
  }, '');
  const shown = report.nodes.slice(0, 5).join(', ') + (report.nodes.length > 5 ? `, … (${report.nodes.length} nodes)` : '');
  return { named: { code: ConfigurationFailed.name, message: `configuration failed at ${report.component}${shown ? ` on ${shown}` : ''}: ${failure.message}` } };
};
