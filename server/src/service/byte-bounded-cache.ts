/** A cache bounded in bytes (each value's size as `sizeOf` reckons it), least recently used out: the tile caches' one shape. */
import { LRUCache } from 'lru-cache';

export class ByteBoundedCache<V extends object> {
  private readonly lru: LRUCache<string, V>;

  constructor(maxBytes: number, sizeOf: (value: V) => number) {
    this.lru = new LRUCache<string, V>({ maxSize: maxBytes, sizeCalculation: sizeOf });
  }

  get(key: string): V | undefined {
    return this.lru.get(key);
  }

  set(key: string, value: V): void {
    this.lru.set(key, value);
  }

  get size(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }

  clear(): void {
    this.lru.clear();
  }
}
