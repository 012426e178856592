/**
 * A small least-recently-used map. Its users cache immutable things only (the server: snapshot
 * indexes by document sha256 and pages rendered from them; the Python closure: project
 * releases and METADATA), so entries never go stale: the bound is there to keep memory (and
 * open database handles) flat whatever the data size, not for freshness.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();

  /** `onEvict` sees each value pushed out by the bound or by clear(), not those deleted. */
  constructor(
    private readonly capacity: number,
    private readonly onEvict: (value: V, key: K) => void = () => {},
  ) {}

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) return undefined;
    // A Map iterates in insertion order: re-inserting marks the key most recently used.
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  /** The value without marking it used. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) {
      const [oldest, evicted] = this.map.entries().next().value as [K, V];
      this.map.delete(oldest);
      this.onEvict(evicted, oldest);
    }
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  clear(): void {
    const entries = [...this.map];
    this.map.clear();
    for (const [key, value] of entries) this.onEvict(value, key);
  }
}
