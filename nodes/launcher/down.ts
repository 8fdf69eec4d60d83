/**
 * `kubeact down`: stops workers first (they stop their pods gracefully), then the control
 * plane, then nats-server; anything that ignores SIGTERM is killed; container processes
 * left by a killed worker are swept from the worker's state files. Nothing stays behind.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isAlive, kubeactHome, loadContext, removeContext, type ProcessRecord } from './context.js';

export async function down(opts: { home?: string; say?: (l: string) => void } = {}): Promise<boolean> {
  const say = opts.say ?? (() => {});
  const home = opts.home ?? kubeactHome();
  const ctx = loadContext(home);
  if (!ctx) return false;
  await stopProcesses(ctx.processes, say);
  removeContext(home);
  return true;
}

export async function stopProcesses(processes: ProcessRecord[], say: (l: string) => void): Promise<void> {
  const order: ProcessRecord['role'][] = ['worker', 'simulated-nodes', 'control-plane', 'nats-server'];
  for (const role of order) {
    const group = processes.filter((p) => p.role === role);
    if (!group.length) continue;
    say(`• stopping ${role === 'worker' ? `${group.length} worker(s)` : role} ...`);
    // A daemon writing a CPU profile on exit (KUBEACT_CPU_PROFILE_DIR, benchmarks) needs longer than 5 s for a big one.
    const graceMs = role === 'worker' || role === 'simulated-nodes' || process.env.KUBEACT_CPU_PROFILE_DIR ? 15_000 : 5_000;
    await Promise.all(group.map((p) => stopPid(p.pid, graceMs)));
    for (const p of group) if (p.dataDir) sweepContainers(p.dataDir);
    // Docker containers outlive their kubelet (for adoption): down removes them.
    // Imported here: dockerode is a third of every CLI call's start-up CPU (the CLI imports `down`).
    for (const p of group) if (p.dataDir && p.runtime === 'docker') await (await import('../worker/runtime/docker.js')).sweepDockerContainers(path.resolve(p.dataDir));
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL; resolves once the process is gone. */
export async function stopPid(pid: number, graceMs: number): Promise<void> {
  if (!isAlive(pid)) return;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (isAlive(pid)) {
    signal(pid, 'SIGKILL');
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 10));
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Kills container process groups recorded by a worker's process runtime that are still alive. */
export function sweepContainers(dataDir: string): number {
  const dir = path.join(dataDir, 'containers');
  if (!existsSync(dir)) return 0;
  let killed = 0;
  for (const f of readdirSync(dir)) {
    try {
      const st = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { pid?: number; startTime?: string | number };
      if (!st.pid || !isAlive(st.pid)) continue;
      if (st.startTime !== undefined && procStartTime(st.pid) !== String(st.startTime)) continue; // pid reused by someone else
      try {
        process.kill(-st.pid, 'SIGKILL');
      } catch {
        signal(st.pid, 'SIGKILL');
      }
      killed++;
    } catch {
      // unreadable state file: nothing to sweep
    }
  }
  return killed;
}

function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
