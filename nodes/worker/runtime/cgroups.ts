/**
 * CPU and memory limits for the process runtime through cgroups, where the kubelet can write them.
 * Each container gets `kubeact/<podUid>/<container>` below the kubelet's own cgroup (read from
 * /proc/self/cgroup), so containers stay inside whatever limits the kubelet itself runs under:
 * cgroup v1 `cpu` (cpu.cfs_quota_us / cpu.cfs_period_us) and `memory` (memory.limit_in_bytes,
 * the kernel's OOM killer), or cgroup v2 (cpu.max, memory.max). Detected once at startup;
 * when nothing is writable, `detectCgroups` says why and the runtime keeps its fallbacks.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** Kubernetes' CFS period (100 ms); the quota is the limit's share of it. */
export const CFS_PERIOD_US = 100_000;

export interface CgroupLimits {
  cpuMillis?: number;
  memoryBytes?: number;
}

/** One container's cgroup(s): the pid is in them; `oomKilled()` after exit; `remove()` when gone. */
export interface ContainerCgroup {
  readonly dirs: string[];
  /** True when the kernel's OOM killer killed a process of this cgroup. */
  oomKilled(): boolean;
  remove(): Promise<void>;
}

export interface CgroupSupport {
  version: 1 | 2;
  cpu: boolean;
  memory: boolean;
  /** Creates the container's cgroup(s), writes the limits and moves `pid` in. */
  place(podUid: string, container: string, pid: number, limits: CgroupLimits): ContainerCgroup | undefined;
  /** The container's cgroup(s) left by an earlier kubelet, if any (to read its OOM count and remove it). */
  find(podUid: string, container: string): ContainerCgroup | undefined;
}

/** The kubelet's own cgroup path per v1 controller (and `''` for v2), from /proc/self/cgroup. */
export function ownCgroups(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    for (const c of m[1].split(',')) out.set(c, m[2]);
  }
  return out;
}

/** The v1 CFS quota of a CPU limit in millicores (at least 1 ms, the kernel's minimum). */
export function cfsQuotaUs(cpuMillis: number): number {
  return Math.max(1000, Math.round((cpuMillis * CFS_PERIOD_US) / 1000));
}

function writable(dir: string): boolean {
  const probe = path.join(dir, `kubeact-probe-${process.pid}`);
  try {
    fs.mkdirSync(probe);
    fs.rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * What this kubelet can enforce: `{ support }`, or `{ reason }` saying why nothing (not Linux, no
 * cgroup mount, not writable).
 */
export function detectCgroups(root = '/sys/fs/cgroup'): { support?: CgroupSupport; reason: string } {
  let own: Map<string, string>;
  try {
    own = ownCgroups(fs.readFileSync('/proc/self/cgroup', 'utf8'));
  } catch (e) {
    return { reason: `cannot read /proc/self/cgroup: ${(e as Error).message}` };
  }
  // v1: per-controller hierarchies (this machine: /sys/fs/cgroup/cpu, /sys/fs/cgroup/memory).
  const cpuDir = own.has('cpu') ? path.join(root, 'cpu', own.get('cpu')!) : undefined;
  const memDir = own.has('memory') ? path.join(root, 'memory', own.get('memory')!) : undefined;
  const cpuV1 = !!cpuDir && fs.existsSync(path.join(cpuDir, 'cpu.cfs_quota_us')) && writable(cpuDir);
  const memV1 = !!memDir && fs.existsSync(path.join(memDir, 'memory.limit_in_bytes')) && writable(memDir);
  if (cpuV1 || memV1) {
    return { support: v1Support(cpuV1 ? cpuDir : undefined, memV1 ? memDir : undefined), reason: `cgroup v1 (cpu: ${cpuV1 ? cpuDir : 'not writable'}, memory: ${memV1 ? memDir : 'not writable'})` };
  }
  // v2: one unified hierarchy with cgroup.controllers.
  const unified = own.get('');
  const v2Dir = unified !== undefined && fs.existsSync(path.join(root, 'cgroup.controllers')) ? path.join(root, unified) : undefined;
  if (v2Dir && writable(v2Dir)) {
    const controllers = safeRead(path.join(v2Dir, 'cgroup.subtree_control')).split(/\s+/);
    const cpu = controllers.includes('cpu');
    const memory = controllers.includes('memory');
    if (cpu || memory) return { support: v2Support(v2Dir, cpu, memory), reason: `cgroup v2 at ${v2Dir} (cpu: ${cpu}, memory: ${memory})` };
    return { reason: `cgroup v2 at ${v2Dir} delegates neither the cpu nor the memory controller` };
  }
  return { reason: `no writable cgroup for the kubelet (cpu: ${cpuDir ?? 'none'}, memory: ${memDir ?? 'none'}, unified: ${v2Dir ?? 'none'})` };
}

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Removes a container's cgroup directories, retried while its last processes exit; then the pod's, if empty. */
async function removeDirs(dirs: string[], parents: string[]): Promise<void> {
  for (const dir of dirs) {
    for (let attempt = 0; ; attempt++) {
      try {
        await fsp.rmdir(dir);
        break;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        // EBUSY: a killed process is still being torn down.
        if (attempt >= 50) break;
        await new Promise((r) => setTimeout(r, 20)); // retry interval while the kernel releases the cgroup
      }
    }
  }
  // Another container of the pod may still use the pod's directory: one try.
  for (const dir of parents) await fsp.rmdir(dir).catch(() => {});
}

function v1Cgroup(dirs: string[], memDir: string | undefined): ContainerCgroup {
  return {
    dirs,
    oomKilled: () => (memDir ? Number(/oom_kill (\d+)/.exec(safeRead(path.join(memDir, 'memory.oom_control')))?.[1] ?? 0) > 0 : false),
    remove: () => removeDirs(dirs, dirs.map((d) => path.dirname(d))),
  };
}

function v2Cgroup(dir: string): ContainerCgroup {
  return {
    dirs: [dir],
    oomKilled: () => Number(/oom_kill (\d+)/.exec(safeRead(path.join(dir, 'memory.events')))?.[1] ?? 0) > 0,
    remove: () => removeDirs([dir], [path.dirname(dir)]),
  };
}

function v1Support(cpuBase: string | undefined, memBase: string | undefined): CgroupSupport {
  return {
    version: 1,
    cpu: !!cpuBase,
    memory: !!memBase,
    find(podUid, container) {
      const dir = (base: string | undefined) => (base ? path.join(base, 'kubeact', podUid, container) : undefined);
      const memDir = dir(memBase);
      const dirs = [dir(cpuBase), memDir].filter((d): d is string => !!d && fs.existsSync(d));
      return dirs.length ? v1Cgroup(dirs, memDir && dirs.includes(memDir) ? memDir : undefined) : undefined;
    },
    place(podUid, container, pid, limits) {
      const dirs: string[] = [];
      let memDir: string | undefined;
      const make = (base: string, write: (dir: string) => void) => {
        const dir = path.join(base, 'kubeact', podUid, container);
        fs.mkdirSync(dir, { recursive: true });
        write(dir);
        fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
        dirs.push(dir);
        return dir;
      };
      if (cpuBase && limits.cpuMillis) {
        make(cpuBase, (dir) => {
          fs.writeFileSync(path.join(dir, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
          fs.writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), String(cfsQuotaUs(limits.cpuMillis!)));
        });
      }
      if (memBase && limits.memoryBytes) {
        memDir = make(memBase, (dir) => fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limits.memoryBytes)));
      }
      return dirs.length ? v1Cgroup(dirs, memDir) : undefined;
    },
  };
}

function v2Support(base: string, cpu: boolean, memory: boolean): CgroupSupport {
  return {
    version: 2,
    cpu,
    memory,
    find(podUid, container) {
      const dir = path.join(base, 'kubeact', podUid, container);
      return fs.existsSync(dir) ? v2Cgroup(dir) : undefined;
    },
    place(podUid, container, pid, limits) {
      if (!(cpu && limits.cpuMillis) && !(memory && limits.memoryBytes)) return undefined;
      const podDir = path.join(base, 'kubeact', podUid);
      const dir = path.join(podDir, container);
      fs.mkdirSync(dir, { recursive: true });
      // Controllers reach a child only when every ancestor delegates them.
      const want = [cpu && '+cpu', memory && '+memory'].filter(Boolean).join(' ');
      for (const d of [path.join(base, 'kubeact'), podDir]) fs.writeFileSync(path.join(d, 'cgroup.subtree_control'), want);
      if (cpu && limits.cpuMillis) fs.writeFileSync(path.join(dir, 'cpu.max'), `${cfsQuotaUs(limits.cpuMillis)} ${CFS_PERIOD_US}`);
      if (memory && limits.memoryBytes) fs.writeFileSync(path.join(dir, 'memory.max'), String(limits.memoryBytes));
      fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
      return v2Cgroup(dir);
    },
  };
}
