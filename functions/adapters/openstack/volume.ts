/**
 * Cinder calls, for the boot volumes Nova makes for servers whose disk is bigger than their
 * flavor's. Nova makes them without any mark of the cluster, so the provider writes the cluster's
 * id into their metadata before it deletes their server: a volume Nova then fails to delete is
 * still found by it.
 */
import type { Session } from './http.ts';

export interface CinderVolume {
  id: string;
  status: string;
}

/** States in which Cinder takes a delete; the others are on their way somewhere and wait for another round. */
const DELETABLE = new Set(['available', 'error', 'error_restoring', 'error_extending', 'error_managing']);

export class Volumes {
  constructor(private readonly session: Session) {}

  /** Whether the cloud has Cinder; without it nothing is marked and nothing is looked for. */
  available(): Promise<boolean> {
    return this.session.has('volume');
  }

  /** Volumes whose metadata has every key and value of `metadata`. */
  async list(metadata: Record<string, string>): Promise<CinderVolume[]> {
    // Cinder reads the filter as a Python literal, which a JSON object of strings is.
    const reply = await this.session.call<{ volumes: CinderVolume[] }>('volume', 'GET', '/volumes/detail', { query: { metadata: JSON.stringify(metadata) } });
    return reply.body.volumes;
  }

  /** Adds `metadata` to a volume's (keys it has already are overwritten, others kept). */
  async mark(volumeId: string, metadata: Record<string, string>): Promise<void> {
    await this.session.call('volume', 'POST', `/volumes/${volumeId}/metadata`, { body: { metadata }, expect: [404] });
  }

  /**
   * Asks Cinder to delete a volume it can delete now (not attached, not busy); deleting takes a
   * while, so the volume stays listed until Cinder is done.
   */
  async delete(volume: CinderVolume): Promise<void> {
    if (!DELETABLE.has(volume.status)) return;
    await this.session.call('volume', 'DELETE', `/volumes/${volume.id}`, { expect: [400, 404, 409] });
  }
}
