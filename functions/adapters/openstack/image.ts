/** Glance look-ups: an image named by id or by name, as the settings and specs may name it. */
import { ProviderError } from '#domain/errors';
import type { Session } from './http.ts';

export interface Image {
  id: string;
  /** The smallest root disk the image needs; a boot volume is made at least this big. */
  minDiskGb: number;
}

interface GlanceImage {
  id: string;
  name?: string | null;
  status: string;
  min_disk?: number | null;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export class Images {
  /** By the name or id asked for: the settings' image and any a spec named. */
  private readonly known = new Map<string, Promise<Image>>();

  constructor(private readonly session: Session) {}

  resolve(nameOrId: string): Promise<Image> {
    const known = this.known.get(nameOrId);
    if (known) return known;
    const found = this.lookUp(nameOrId);
    this.known.set(nameOrId, found);
    // A failed look-up is asked again next time, not remembered.
    found.catch(() => this.known.delete(nameOrId));
    return found;
  }

  private async lookUp(nameOrId: string): Promise<Image> {
    let image: GlanceImage | undefined;
    if (UUID.test(nameOrId)) {
      const reply = await this.session.call<GlanceImage>('image', 'GET', `/images/${nameOrId}`, { expect: [404] });
      if (reply.status === 200) image = reply.body;
    }
    if (!image) {
      const reply = await this.session.call<{ images: GlanceImage[] }>('image', 'GET', '/images', { query: { name: nameOrId } });
      const named = reply.body.images;
      if (named.length > 1) {
        throw new ProviderError('AmbiguousImage', `Glance has ${named.length} images named ${nameOrId}; name the image by id`);
      }
      image = named[0];
    }
    if (!image) throw new ProviderError('ImageNotFound', `Glance has no image named or with the id ${nameOrId}`);
    if (image.status !== 'active') {
      throw new ProviderError('ImageNotActive', `The image ${nameOrId} (${image.id}) is ${image.status}, not active`);
    }
    return { id: image.id, minDiskGb: image.min_disk ?? 0 };
  }
}
