/**
 * CPU and memory of whole process groups, read from /proc (the process runtime's stats()).
 * A container is a process group (its own session), so its usage is the sum over the group's
 * live members, plus what members already collected from children they reaped (cutime/cstime):
 * a shell that forks workers and waits for them still accounts for their CPU.
 *
 * One scan of /proc serves every container sampled at the same moment (the kubelet asks for all
 * of them together), so sampling N containers costs one directory walk, not N.
 */
import fsp from 'node:fs/promises';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every Linux ABI node runs on). */
const CLOCK_TICKS_PER_SECOND = 100;
const NANOS_PER_TICK = 1e9 / CLOCK_TICKS_PER_SECOND;
/** Page size for the rss field (4 KiB on x86-64 and the usual arm64 kernels). */
const PAGE_BYTES = 4096;

export interface GroupUsage {
  /** Cumulative CPU of the group (live members + reaped children), ns. */
  cpuNanos: number;
  /** Resident set size of the live members, bytes. */
  rssBytes: number;
  /** Live (non-zombie) members. */
  processes: number;
}

/** Parses one /proc/<pid>/stat line; undefined when it is not one. */
export function parseStat(text: string): { state: string; pgrp: number; cpuTicks: number; rssPages: number } | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // Fields after `comm`, numbered from 3 (state): utime=14 stime=15 cutime=16 cstime=17 rss=24.
  const f = text.slice(close + 2).split(' ');
  if (f.length < 22) return undefined;
  const n = (i: number) => Number(f[i - 3]);
  return { state: f[0], pgrp: n(5), cpuTicks: n(14) + n(15) + n(16) + n(17), rssPages: n(24) };
}

/** One walk of /proc: usage of every process group in `pgids`. */
export async function scanGroups(pgids: ReadonlySet<number>, procRoot = '/proc'): Promise<Map<number, GroupUsage>> {
  const out = new Map<number, GroupUsage>();
  if (pgids.size === 0) return out;
  const names = await fsp.readdir(procRoot).catch(() => [] as string[]);
  await Promise.all(
    names.map(async (name) => {
      if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) return;
      let text: string;
      try {
        text = await fsp.readFile(`${procRoot}/${name}/stat`, 'utf8');
      } catch {
        return; // exited meanwhile
      }
      const st = parseStat(text);
      if (!st || st.state === 'Z' || !pgids.has(st.pgrp)) return;
      const u = out.get(st.pgrp) ?? { cpuNanos: 0, rssBytes: 0, processes: 0 };
      u.cpuNanos += st.cpuTicks * NANOS_PER_TICK;
      u.rssBytes += st.rssPages * PAGE_BYTES;
      u.processes++;
      out.set(st.pgrp, u);
    }),
  );
  return out;
}

/**
 * Batches concurrent requests into one scan: every group asked for before the scan starts
 * (same tick) is answered by it.
 */
export class GroupSampler {
  private batch?: { pgids: Set<number>; result: Promise<Map<number, GroupUsage>> };
  constructor(private readonly procRoot = '/proc') {}

  async usage(pgid: number): Promise<GroupUsage | undefined> {
    if (!this.batch) {
      const pgids = new Set<number>();
      const result = new Promise<void>((r) => setImmediate(r)).then(() => {
        this.batch = undefined;
        return scanGroups(pgids, this.procRoot);
      });
      this.batch = { pgids, result };
    }
    this.batch.pgids.add(pgid);
    return (await this.batch.result).get(pgid);
  }
}
