/**
 * Disk usage of a directory tree as `du -s -B1` counts it (allocated blocks, each inode once,
 * symlinks not followed), measured by a walk that can be spread over many calls: each `step`
 * looks at no more than `budget` entries, so the kubelet's housekeeping does bounded work per
 * tick however large an emptyDir grows. The running total is a lower bound of the usage, so a
 * walk that already passed a limit need not finish to say so.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';

export interface UsageProgress {
  /** Bytes counted so far (the whole usage once `done`). */
  bytes: number;
  /** Entries looked at by the last `step`. */
  visited: number;
  /** The walk has counted the whole tree. */
  done: boolean;
}

export class DirUsageWalk {
  private pending: string[];
  private bytes = 0;
  private readonly seen = new Set<string>();

  constructor(private readonly root: string) {
    this.pending = [root];
  }

  private progress(visited: number): UsageProgress {
    return { bytes: this.bytes, done: this.pending.length === 0, visited };
  }

  /** Counts up to `budget` more entries (a missing tree counts 0); returns the progress. */
  async step(budget: number): Promise<UsageProgress> {
    const limit = Math.max(1, budget);
    let left = limit;
    while (this.pending.length && left > 0) {
      const p = this.pending.pop()!;
      left--;
      const st = await fsp.lstat(p, { bigint: false }).catch(() => undefined);
      if (!st) continue; // removed while we walk
      const inode = `${st.dev}:${st.ino}`;
      if (st.nlink > 1 || st.isDirectory()) {
        if (this.seen.has(inode)) continue; // a hard link counted already
        this.seen.add(inode);
      }
      this.bytes += st.blocks * 512;
      if (st.isDirectory()) for (const e of await fsp.readdir(p).catch(() => [] as string[])) this.pending.push(path.join(p, e));
    }
    return this.progress(limit - left);
  }

  /** Walks to the end (tests and small trees). */
  async total(budget = 1000): Promise<number> {
    while (!(await this.step(budget)).done);
    return this.bytes;
  }

  /** Walks again from the root (the tree may have changed since). */
  restart(): void {
    this.pending = [this.root];
    this.bytes = 0;
    this.seen.clear();
  }

  get rootPath(): string {
    return this.root;
  }
}
