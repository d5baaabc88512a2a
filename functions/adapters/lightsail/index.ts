export { LightsailProvider, instanceName, lightsailProviderFromEnv, portInfos, staticIpName, toOperations, toServer, type LightsailProviderOptions } from './provider.ts';
export { LIGHTSAIL_TRIGGERS, lightsailConfigured, lightsailSettings, lightsailSettingsFromEnv, type LightsailSettings } from './settings.ts';
