/** The emulated `local` cloud that local mode and the tests provision on: never deployed. */
export { LocalCloud, type LocalCloudNetwork, type LocalCloudOptions } from './cloud.ts';
export { INVENTORY_FILE } from './inventory-file.ts';
export { LocalCloudProvider } from './provider.ts';
export type { LocalCloudInventoryItem, LocalCloudServer } from './servers.ts';
export { localCloudEnvSchema, localCloudSettingsOf, readLocalCloudSettings, type LocalCloudSettings } from './settings.ts';
