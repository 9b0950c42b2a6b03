// A bounded cache whose entries expire, on lru-cache: at most `max` entries (the least recently
// used go first), each for at most `ttlMs`. A TTL of 0 (or less) disables caching altogether
// (lru-cache would read 0 as "never expires").
import { LRUCache } from 'lru-cache';

export class TtlCache<V extends NonNullable<unknown>> {
  private readonly lru: LRUCache<string, V> | undefined;

  /** `now`: the clock in milliseconds (tests); default performance.now(). */
  constructor(
    readonly ttlMs: number,
    readonly max: number,
    now?: () => number,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`cache size must be a positive whole number, got ${max}`);
    this.lru =
      ttlMs > 0
        ? new LRUCache<string, V>({
            max,
            ttl: ttlMs,
            ttlAutopurge: false,
            ttlResolution: 0,
            updateAgeOnGet: false,
            allowStale: false,
            ...(now ? { perf: { now } } : {}),
          })
        : undefined;
  }

  get(key: string): V | undefined {
    return this.lru?.get(key);
  }

  set(key: string, value: V): void {
    this.lru?.set(key, value);
  }

  clear(): void {
    this.lru?.clear();
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }
}
