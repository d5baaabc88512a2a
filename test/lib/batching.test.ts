import { describe, expect, it } from 'vitest';
import { chunk, forEachConcurrently } from '#lib/batching';

describe('chunk', () => {
  it('cuts items into consecutive pieces of the size, the last one shorter, in their order', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([1, 2, 3], 3)).toEqual([[1, 2, 3]]);
    expect(chunk([], 50)).toEqual([]);
  });

  it('refuses a size that would never move on', () => {
    expect(() => chunk([1], 0)).toThrow(RangeError);
    expect(() => chunk([1], 1.5)).toThrow(RangeError);
  });
});

describe('forEachConcurrently', () => {
  /** Work that waits until the test lets it finish, so how many run at once can be counted. */
  const gated = () => {
    const started: number[] = [];
    const release = new Map<number, () => void>();
    let running = 0;
    let most = 0;
    const work = async (item: number) => {
      started.push(item);
      running += 1;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => release.set(item, resolve));
      running -= 1;
    };
    return { work, started, release, most: () => most };
  };

  it('works on every item once, starting them in order, never more than the limit at once', async () => {
    // Prepare
    const { work, started, release, most } = gated();
    const items = [1, 2, 3, 4, 5, 6, 7];

    // Act
    const done = forEachConcurrently(items, 3, work);
    for (const item of items) {
      await untilStarted(() => release.has(item));
      release.get(item)?.();
    }
    await done;

    // Assess
    expect(started).toEqual(items);
    expect(most()).toBe(3);
  });

  it('does nothing for no items, and refuses a limit that would skip them all', async () => {
    await expect(forEachConcurrently([], 5, async () => undefined)).resolves.toBeUndefined();
    await expect(forEachConcurrently([1], 0, async () => undefined)).rejects.toThrow(RangeError);
  });

  it('rejects with the first failure', async () => {
    const failing = forEachConcurrently([1, 2, 3], 2, async (item) => {
      if (item === 2) throw new Error('item 2 failed');
    });

    await expect(failing).rejects.toThrow('item 2 failed');
  });
});

/** Lets pending promises settle until `ready` holds: an item starts only once a runner is free. */
async function untilStarted(ready: () => boolean): Promise<void> {
  for (let turn = 0; turn < 100 && !ready(); turn++) await Promise.resolve();
  if (!ready()) throw new Error('the work never started');
}
