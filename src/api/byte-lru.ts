/**
 * A least-recently-used map bounded by the total size of its entries (in bytes, as the caller counts them) rather
 * than by their number: API answers range from a few hundred bytes to ~1 MB, so a count bound would bound nothing.
 * A Map keeps insertion order, so re-inserting on use makes its first key the least recently used.
 */
export class ByteLru<V> {
  private readonly entries = new Map<string, {value: V; bytes: number}>()
  private total = 0

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.total
  }

  get size(): number {
    return this.entries.size
  }

  get(key: string): V | undefined {
    const e = this.entries.get(key)
    if (e === undefined) return undefined
    this.entries.delete(key)
    this.entries.set(key, e)
    return e.value
  }

  /** The value under `key`, without making it the most recently used. */
  peek(key: string): V | undefined {
    return this.entries.get(key)?.value
  }

  /** Stores `value`, evicting the least recently used entries until it fits; one larger than the bound is not stored. */
  set(key: string, value: V, bytes: number): boolean {
    this.delete(key)
    if (bytes > this.maxBytes) return false
    while (this.total + bytes > this.maxBytes) {
      const oldest = this.entries.keys().next()
      if (oldest.done) break
      this.delete(oldest.value)
    }
    this.entries.set(key, {value, bytes})
    this.total += bytes
    return true
  }

  delete(key: string): void {
    const e = this.entries.get(key)
    if (e === undefined) return
    this.entries.delete(key)
    this.total -= e.bytes
  }

  clear(): void {
    this.entries.clear()
    this.total = 0
  }
}
