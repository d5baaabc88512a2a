/**
 * What Lightsail offers where the adapter makes instances, read as it is needed: the zone (the
 * setting, or the region's first available one, asked once), a blueprint's minimum power, and the
 * active Linux bundles.
 */
import { GetBlueprintsCommand, GetBundlesCommand, GetRegionsCommand, type LightsailClient } from '@aws-sdk/client-lightsail';
import { ProviderError } from '#domain/errors';
import { activeLinuxBundles, type BundleSize } from './bundles.ts';
import { callLightsail } from './errors.ts';
import type { LightsailSettings } from './settings.ts';

export class LightsailCatalogue {
  private firstZone: Promise<string> | undefined;

  constructor(
    private readonly client: LightsailClient,
    private readonly settings: Pick<LightsailSettings, 'zone' | 'region'>,
  ) {}

  /** LIGHTSAIL_ZONE, or the region's first available zone by name (GetRegions, asked once). */
  async zone(): Promise<string> {
    if (this.settings.zone) return this.settings.zone;
    this.firstZone ??= this.readFirstZone().catch((error: unknown) => {
      this.firstZone = undefined;
      throw error;
    });
    return this.firstZone;
  }

  private async readFirstZone(): Promise<string> {
    const region = this.settings.region;
    if (!region) throw new ProviderError('LightsailInvalidInput', 'no region: set AWS_REGION or LIGHTSAIL_ZONE');
    const answer = await callLightsail('GetRegions', () => this.client.send(new GetRegionsCommand({ includeAvailabilityZones: true })));
    const zones = (answer.regions?.find((candidate) => candidate.name === region)?.availabilityZones ?? [])
      .filter((zone) => zone.state === undefined || zone.state === 'available')
      .map((zone) => zone.zoneName)
      .filter((name): name is string => name !== undefined)
      .sort();
    const first = zones[0];
    if (!first) throw new ProviderError('LightsailInvalidInput', `Lightsail answers no available zone in ${region}`);
    return first;
  }

  async blueprintMinPower(blueprintId: string): Promise<number> {
    let pageToken: string | undefined;
    do {
      const page = await callLightsail('GetBlueprints', () => this.client.send(new GetBlueprintsCommand({ includeInactive: false, ...(pageToken ? { pageToken } : {}) })));
      const blueprint = page.blueprints?.find((candidate) => candidate.blueprintId === blueprintId);
      if (blueprint) {
        if (blueprint.isActive === false) throw new ProviderError('LightsailInvalidInput', `Lightsail blueprint ${blueprintId} is not active`);
        if (blueprint.platform !== undefined && blueprint.platform !== 'LINUX_UNIX') {
          throw new ProviderError('LightsailInvalidInput', `Lightsail blueprint ${blueprintId} is not Linux: the cloud-init runner needs a Linux blueprint`);
        }
        return blueprint.minPower ?? 0;
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    throw new ProviderError('LightsailNotFound', `no active Lightsail blueprint ${blueprintId}`);
  }

  async activeBundles(): Promise<BundleSize[]> {
    const bundles: BundleSize[] = [];
    let pageToken: string | undefined;
    do {
      const page = await callLightsail('GetBundles', () => this.client.send(new GetBundlesCommand({ includeInactive: false, ...(pageToken ? { pageToken } : {}) })));
      bundles.push(...activeLinuxBundles(page.bundles ?? []));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return bundles;
  }
}
