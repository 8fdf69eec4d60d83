/**
 * Failover: a worker SIGKILLed under a Deployment, timed until all the pods it ran are
 * Running on the other nodes (the deployment has its replicas Running again, none on the lost
 * node), seen by a watch. Each run uses a fresh deployment spread over the nodes; the killed
 * worker is started again with its recorded argv (the saved context follows, so `down` stops
 * it) and the run ends only once its node is Ready again without the unreachable taint, the
 * evicted pods are gone and the deployment is deleted: the next run starts from a steady state.
 * The control plane runs with the default node-monitor settings (3 s grace, 1 s toleration).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ApiClient } from '../protocol/client.js';
import type { KubeObject } from '../protocol/objects.js';
import { saveContext, type ClusterContext } from '../nodes/launcher/context.js';
import { launch } from '../nodes/launcher/up.js';
import { now, sleep, throwIfAborted } from './pace.js';
import { benchPod } from './pod-startup.js';
import { WatchSet, benchDeployment, deleteDeployment, isActive, isRunning, isTerminating } from './watch-set.js';

export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';

export interface FailoverRun {
  victim: string;
  /** Pods of the deployment on the killed worker. */
  pods: number;
  /** SIGKILL → the node is Ready=Unknown with the unreachable taint. */
  detectMs: number;
  /** SIGKILL → every pod of the node is marked for deletion. */
  evictMs: number;
  /** SIGKILL → the deployment has all its replicas Running, none on the lost node. */
  failoverMs: number;
  /** Worker started again → node Ready without the taint and the evicted pods removed. */
  recoverMs: number;
}

export interface FailoverOptions {
  runs: number;
  replicas: number;
  runId: string;
  say: (line: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
}

const readyCondition = (n: KubeObject | undefined) => n?.status?.conditions?.find((c: { type: string }) => c.type === 'Ready');
const tainted = (n: KubeObject | undefined) => (n?.spec?.taints ?? []).some((t: { key: string }) => t.key === UNREACHABLE_TAINT);

/** Whether a process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Resolves with the time (see `now()`) at which `p` resolved. */
const stamped = <T>(p: Promise<T>) => p.then(() => now());

export async function failoverBench(client: ApiClient, ctx: ClusterContext, opts: FailoverOptions): Promise<FailoverRun[]> {
  const { runs, replicas, runId, say, signal } = opts;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const base = benchPod('x', 'x').spec!.containers[0];
  const workers = ctx.processes.filter((p) => p.role === 'worker').map((p) => p.name).sort();
  const results: FailoverRun[] = [];
  for (let i = 0; i < runs; i++) {
    throwIfAborted(signal);
    const name = `bench-${runId}-failover-${i}`;
    const pods = await new WatchSet(client, 'Pod', `app=${name}`).start();
    try {
      await client.create(benchDeployment(name, replicas, { ...base, name: 'sleep' }));
      const steady = await pods.until(`${replicas} pods Running`, (all) => all.filter((p) => isActive(p) && isRunning(p)).length === replicas, timeoutMs, signal);
      // Each run kills another worker (the next one that runs some of the pods).
      const counts = new Map<string, number>();
      for (const p of steady) counts.set(p.spec.nodeName, (counts.get(p.spec.nodeName) ?? 0) + 1);
      const victim = [0, 1, 2].map((k) => workers[(i + k) % workers.length]).find((n) => (counts.get(n) ?? 0) > 0)!;
      const record = ctx.processes.find((p) => p.role === 'worker' && p.name === victim)!;
      const onVictim = steady.filter((p) => p.spec.nodeName === victim).map((p) => p.metadata!.name!);

      // Every waiter is armed (its watch listed) before the kill.
      const node = await new WatchSet(client, 'Node', `kubernetes.io/hostname=${victim}`).start();
      let detectAt: number, evictAt: number, replacedAt: number;
      const t0 = now(); // just before the kill: the waiters below are set up synchronously
      try {
        const detected = stamped(node.until(`${victim} NotReady with the unreachable taint`, ([n]) => readyCondition(n)?.status === 'Unknown' && tainted(n), timeoutMs, signal));
        const evicted = stamped(pods.until(`the pods of ${victim} marked for deletion`, () => onVictim.every((n) => !pods.objects.has(n) || isTerminating(pods.objects.get(n)!)), timeoutMs, signal));
        const replaced = stamped(
          pods.until(`${replicas} pods Running off ${victim}`, (all) => all.filter((p) => isActive(p) && isRunning(p) && p.spec.nodeName !== victim).length === replicas, timeoutMs, signal),
        );
        process.kill(record.pid, 'SIGKILL');
        [detectAt, evictAt, replacedAt] = await Promise.all([detected, evicted, replaced]);
      } finally {
        node.stop();
      }
      const run: FailoverRun = { victim, pods: onVictim.length, detectMs: detectAt - t0, evictMs: evictAt - t0, failoverMs: replacedAt - t0, recoverMs: 0 };

      // Start the worker again (once the old process is gone) and wait for a steady state.
      const deadline = now() + 5000;
      while (alive(record.pid) && now() < deadline) await sleep(10, signal); // reaping a killed process is not an event we can watch
      const again = launch('worker', record.name, record.argv![1], record.argv!.slice(2), path.dirname(record.log));
      record.pid = again.pid;
      saveContext(ctx);
      const t1 = now();
      await Promise.all([
        client.waitFor('Node', victim, undefined, (n) => readyCondition(n)?.status === 'True' && !tainted(n), timeoutMs),
        pods.until(`the evicted pods of ${victim} removed`, () => onVictim.every((n) => pods.deleted.has(n) && !pods.objects.has(n)), timeoutMs, signal),
      ]);
      run.recoverMs = now() - t1;
      results.push(run);
      say(
        `  run ${i + 1}/${runs}: SIGKILL ${victim} (${run.pods} of ${replicas} pods) → NotReady ${(run.detectMs / 1000).toFixed(2)} s, evicted ${(run.evictMs / 1000).toFixed(2)} s, ` +
          `all Running elsewhere ${(run.failoverMs / 1000).toFixed(2)} s; worker back in ${(run.recoverMs / 1000).toFixed(2)} s`,
      );
      await deleteDeployment(client, name, pods, timeoutMs, signal);
    } finally {
      pods.stop();
      await client.delete('Deployment', name, { namespace: 'default' }).catch(() => {});
    }
  }
  return results;
}
