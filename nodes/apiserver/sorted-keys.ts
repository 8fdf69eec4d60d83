/**
 * The watch cache's keys in list order (`namespace/name`), so a list page starts at its
 * namespace or continue token by binary search instead of sorting every object of the kind
 * for every page. Keys live in chunks of at most CHUNK (a sorted array of sorted arrays): adding
 * or removing one moves at most a chunk's worth, not the whole array.
 */
const CHUNK = 512;

export class SortedKeys {
  private chunks: string[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `key`; false when it was there already. */
  add(key: string): boolean {
    if (!this.chunks.length) {
      this.chunks.push([key]);
      this.count++;
      return true;
    }
    let c = this.chunkFor(key);
    if (c === this.chunks.length) c--; // larger than every key: the last chunk takes it
    const chunk = this.chunks[c];
    const i = lowerBound(chunk, key);
    if (chunk[i] === key) return false;
    chunk.splice(i, 0, key);
    this.count++;
    if (chunk.length > CHUNK) this.chunks.splice(c, 1, chunk.slice(0, chunk.length >> 1), chunk.slice(chunk.length >> 1));
    return true;
  }

  /** Removes `key`; false when it was not there. */
  delete(key: string): boolean {
    const c = this.chunkFor(key);
    const chunk = this.chunks[c];
    if (!chunk) return false;
    const i = lowerBound(chunk, key);
    if (chunk[i] !== key) return false;
    chunk.splice(i, 1);
    this.count--;
    if (!chunk.length) this.chunks.splice(c, 1);
    return true;
  }

  /** The keys from `start` on (after it, when `exclusive`), in order. */
  *from(start: string, exclusive = false): Generator<string> {
    let [c, i] = this.position(start, exclusive);
    for (; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c];
      for (; i < chunk.length; i++) yield chunk[i];
    }
  }

  /** How many keys there are from `start` on (after it, when `exclusive`). */
  countFrom(start: string, exclusive = false): number {
    const [c, i] = this.position(start, exclusive);
    if (c >= this.chunks.length) return 0;
    let n = this.chunks[c].length - i;
    for (let k = c + 1; k < this.chunks.length; k++) n += this.chunks[k].length;
    return n;
  }

  /** Chunk and index of the first key ≥ start (> start when exclusive). */
  private position(start: string, exclusive: boolean): [number, number] {
    const c = this.chunkFor(start);
    if (c >= this.chunks.length) return [c, 0];
    const chunk = this.chunks[c];
    let i = lowerBound(chunk, start);
    if (exclusive && chunk[i] === start) i++;
    if (i >= chunk.length) return [c + 1, 0];
    return [c, i];
  }

  /** The first chunk whose last key is ≥ key (chunks.length when none). */
  private chunkFor(key: string): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const chunk = this.chunks[mid];
      if (chunk[chunk.length - 1] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The first index whose element is ≥ key. */
function lowerBound(a: string[], key: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
