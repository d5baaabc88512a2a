/** Provider `hyperstack`: the cloud port over NexGenCloud's Infrahub API v1 (docs/hyperstack-provider.md). */
export { HyperstackProvider, type HyperstackProviderOptions } from './provider.ts';
export { hyperstackSettingsFromEnv, DEFAULT_API_URL, type HyperstackSettings } from './settings.ts';
