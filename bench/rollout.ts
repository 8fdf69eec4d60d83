/**
 * Rolling update of a Deployment: 50 replicas rolled to a new image with the RollingUpdate
 * defaults (maxSurge 25% → 13, maxUnavailable 25% → 12). Timed from the spec update `kubeact
 * set image` makes (the same compare-and-set write, done in-process so no CLI start-up is
 * counted) until the deployment meets `kubeact rollout status`' completion condition (the
 * same `statusLine`), seen by a watch. The ReplicaSet watch samples the surge: the largest
 * sum of spec.replicas over the deployment's ReplicaSets, minus 50; the pod watch samples the
 * fewest ready pods. Baseline (same run): 50 pods created directly, all at once, until all
 * are Running.
 */
import type { ApiClient } from '../protocol/client.js';
import type { KubeObject } from '../protocol/objects.js';
import { statusLine } from '../nodes/cli/commands/rollout.js';
import { now, throwIfAborted } from './pace.js';
import { benchPod } from './pod-startup.js';
import { NAMESPACE, WatchSet, benchDeployment, deleteDeployment, isActive, isReady, isRunning } from './watch-set.js';

export interface RolloutResult {
  replicas: number;
  /** Baseline: `replicas` pods created at once (parallel creates) → all Running. */
  directMs: number;
  /** Deployment created → all replicas available (rollout status complete). */
  deployMs: number;
  /** Image updated → rollout status complete. */
  rolloutMs: number;
  /** Largest Σ spec.replicas of the ReplicaSets minus `replicas` during the rollout. */
  maxSurge: number;
  /** The fencepost from maxSurge 25% (rounded up). */
  surgeAllowed: number;
  /** Fewest ready, active pods seen during the rollout. */
  minReady: number;
  /** The floor from maxUnavailable 25% (rounded down). */
  minReadyAllowed: number;
}

export interface RolloutOptions {
  replicas: number;
  runId: string;
  say: (line: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
}

const IMAGE_V1 = 'kubeact/sleep:1.0';
const IMAGE_V2 = 'kubeact/sleep:2.0';

function container(image: string): Record<string, unknown> {
  const base = benchPod('x', 'x').spec!.containers[0];
  return { ...base, name: 'sleep', image };
}

export async function rolloutBench(client: ApiClient, opts: RolloutOptions): Promise<RolloutResult> {
  const { replicas, runId, say, signal } = opts;
  const timeoutMs = opts.timeoutMs ?? 60_000;

  // Baseline: the same pods, created directly and all at once.
  const directLabel = `kubeact-bench-direct=${runId}`;
  const direct = await new WatchSet(client, 'Pod', directLabel).start();
  let directMs: number;
  try {
    const names = Array.from({ length: replicas }, (_, i) => `bench-${runId}-direct-${String(i).padStart(2, '0')}`);
    const t0 = now();
    await Promise.all(
      names.map((name) => {
        const pod = benchPod(name, runId);
        pod.metadata!.labels = { 'kubeact-bench-direct': runId };
        pod.spec!.terminationGracePeriodSeconds = 1;
        return client.create(pod);
      }),
    );
    await direct.until(`${replicas} pods Running`, (pods) => pods.filter((p) => isActive(p) && isRunning(p)).length === replicas, timeoutMs, signal);
    directMs = now() - t0;
    say(`  ${replicas} pods created at once: all Running in ${(directMs / 1000).toFixed(2)} s; deleting them`);
    await Promise.all(names.map((name) => client.delete('Pod', name, { namespace: NAMESPACE }).catch(() => {})));
    await direct.until('the pods gone', (pods) => pods.length === 0, timeoutMs, signal);
  } finally {
    direct.stop();
  }
  throwIfAborted(signal);

  const name = `bench-${runId}-web`;
  const pods = await new WatchSet(client, 'Pod', `app=${name}`).start();
  const sets = await new WatchSet(client, 'ReplicaSet', `app=${name}`).start();
  try {
    const t0 = now();
    await client.create(benchDeployment(name, replicas, container(IMAGE_V1)));
    await client.waitFor<KubeObject>('Deployment', name, NAMESPACE, (d) => !!d && statusLine(d).done && d.status?.availableReplicas === replicas, timeoutMs);
    const deployMs = now() - t0;
    say(`  deployment of ${replicas} replicas available in ${(deployMs / 1000).toFixed(2)} s; rolling it to a new image`);

    const specSum = (all: KubeObject[]) => all.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
    const readyCount = (all: KubeObject[]) => all.filter((p) => isActive(p) && isReady(p)).length;
    let maxSum = specSum(sets.all());
    let minReady = readyCount(pods.all());
    const stopRs = sets.sample((all) => {
      maxSum = Math.max(maxSum, specSum(all));
    });
    const stopPods = pods.sample((all) => {
      minReady = Math.min(minReady, readyCount(all));
    });
    const t1 = now();
    const updated = await client.modify<KubeObject>('Deployment', name, NAMESPACE, (d) => {
      d.spec.template.spec.containers[0].image = IMAGE_V2;
    });
    const generation = updated?.metadata?.generation ?? 0;
    await client.waitFor<KubeObject>(
      'Deployment',
      name,
      NAMESPACE,
      (d) => !!d && (d.metadata?.generation ?? 0) >= generation && (d.status?.observedGeneration ?? 0) >= generation && statusLine(d).done,
      timeoutMs,
    );
    const rolloutMs = now() - t1;
    stopRs();
    stopPods();
    const surgeAllowed = Math.ceil(replicas * 0.25);
    const minReadyAllowed = replicas - Math.floor(replicas * 0.25);
    say(`  rolled out in ${(rolloutMs / 1000).toFixed(2)} s; largest surge ${maxSum - replicas} (allowed ${surgeAllowed}), fewest ready ${minReady} (floor ${minReadyAllowed})`);
    say(`  deleting deployment ${name}`);
    await deleteDeployment(client, name, pods, timeoutMs, signal);
    return {
      replicas,
      directMs,
      deployMs,
      rolloutMs,
      maxSurge: maxSum - replicas,
      surgeAllowed,
      minReady,
      minReadyAllowed,
    };
  } finally {
    pods.stop();
    sets.stop();
    await client.delete('Deployment', name, { namespace: NAMESPACE }).catch(() => {});
  }
}
