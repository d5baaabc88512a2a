/** Provider `ec2`: the cloud port over Amazon EC2, its nodes configured through SSM Run Command (./ssm/). */
export { Ec2Provider } from './provider.ts';
export type { Ec2ProviderOptions } from './settings.ts';
export type { SsmConfigurationOptions } from './ssm/index.ts';
export { ec2Error } from './calls.ts';
export { CLUSTER_ID_TAG, MANAGED_BY_TAG, ROLE_TAG } from './tags.ts';
export { MAX_CLIENT_TAGS } from './spec-options.ts';
export { launchToken, planLaunches } from './launches.ts';
export { ipPermissionOf } from './security-groups.ts';
export { EC2_INSTANCE_TYPES, INSTANCE_ARCHITECTURE, instanceType, MAX_ROOT_VOLUME_GB, smallestInstanceType, type Ec2InstanceType } from './instance-types.ts';
