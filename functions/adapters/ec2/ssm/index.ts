/** Provider `ec2`'s configuration through SSM Run Command: each node by itself, or the master as Ansible controller. */
export { SsmConfigurationRunner } from './runner.ts';
export { ssmError } from './commands.ts';
export { failureReport, invocationState } from './node-results.ts';
export {
  DEFAULT_LOGIN_USER,
  ec2InventoryVars,
  LAMBDA_COMPONENTS,
  type ConfigurationNode,
  type ControllerSettings,
  type Ec2InventoryVars,
  type PlaybookSource,
  type SsmConfigurationOptions,
  type SsmProfile,
  type SsmRun,
} from './settings.ts';
