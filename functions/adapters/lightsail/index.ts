export { LightsailProvider, lightsailProviderFromEnv, type LightsailProviderOptions } from './provider.ts';
export { instanceName, staticIpName, toOperations, toServer } from './instances.ts';
export { portInfos } from './spec-options.ts';
export { LIGHTSAIL_TRIGGERS, lightsailConfigured, lightsailSettings, lightsailSettingsFromEnv, type LightsailSettings } from './settings.ts';
