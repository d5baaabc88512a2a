/**
 * Cutting work to the size an API takes, and running it a few at a time: the one copy of each for
 * every adapter and use case (SendCommand's 50 instances, PutEvents' 10 entries, a provider's
 * batch of servers, per-instance EC2 calls).
 */

/** `items` in consecutive pieces of `size` (the last one shorter), in their order. */
export const chunk = <T>(items: readonly T[], size: number): T[][] => {
  // A size below 1 would never move on.
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a whole number from 1; got ${size}`);
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
};

/**
 * Runs `work` over `items` with at most `limit` at once, starting them in order. The first
 * failure rejects the whole, as `Promise.all` does; the other runners still finish what is left,
 * each item at most once.
 */
export const forEachConcurrently = async <T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> => {
  // A limit below 1 would start no runner and skip every item without a word.
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency limit must be a whole number from 1; got ${limit}`);
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
};
