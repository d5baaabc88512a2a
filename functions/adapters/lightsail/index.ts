export { LightsailProvider, instanceName, staticIpName, portInfos, toServer, type LightsailProviderOptions } from './provider.ts';
export { lightsailSettingsFromEnv, lightsailSettings, type LightsailSettings } from './settings.ts';
