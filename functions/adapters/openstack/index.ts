/** Provider `openstack`: the cloud port over Keystone, Nova, Neutron, Glance and Cinder (docs/openstack-provider.md). */
export { OpenStackProvider, type OpenStackProviderOptions } from './provider.ts';
export { openStackSettingsFromEnv, type OpenStackSettings } from './settings.ts';
export { COMPUTE_MICROVERSION } from './compute.ts';
