/**
 * The objects of one kind (in the default namespace, or Nodes) matching a label selector, kept current by a watch, for the
 * workload benchmarks: every event can be sampled (`onChange`), and `until` waits for a
 * condition on the set with a deadline — on watch events, never by polling.
 */
import type { ApiClient, Watch } from '../protocol/client.js';
import type { Kind } from '../protocol/kinds.js';
import type { KubeObject } from '../protocol/objects.js';
import { Aborted } from './pace.js';

export const NAMESPACE = 'default';

export class WatchSet {
  readonly objects = new Map<string, KubeObject>();
  /** Names seen DELETED. */
  readonly deleted = new Set<string>();
  private watch?: Watch;
  private readonly waiters = new Set<() => void>();
  private readonly samplers = new Set<(objs: KubeObject[]) => void>();

  constructor(
    private readonly client: ApiClient,
    readonly kind: Kind,
    readonly labelSelector: string,
  ) {}

  async start(): Promise<this> {
    const namespace = this.kind === 'Node' ? undefined : NAMESPACE;
    this.watch = await this.client.watch(this.kind, { namespace, labelSelector: this.labelSelector }, (ev) => {
      const name = ev.object.metadata!.name!;
      if (ev.type === 'DELETED') {
        this.objects.delete(name);
        this.deleted.add(name);
      } else this.objects.set(name, ev.object);
      if (this.samplers.size) {
        const all = this.all();
        for (const s of this.samplers) s(all);
      }
      for (const w of [...this.waiters]) w();
    });
    return this;
  }

  stop(): void {
    this.watch?.stop();
    for (const w of [...this.waiters]) w();
  }

  all(): KubeObject[] {
    return [...this.objects.values()];
  }

  /** Calls `fn` with the whole set after every event, until the returned function is called. */
  sample(fn: (objs: KubeObject[]) => void): () => void {
    this.samplers.add(fn);
    return () => this.samplers.delete(fn);
  }

  /** Resolves with the set once `predicate` holds for it (checked now and after every event). */
  until(what: string, predicate: (objs: KubeObject[]) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<KubeObject[]> {
    return new Promise((resolve, reject) => {
      const finish = (err?: Error) => {
        this.waiters.delete(check);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(this.all());
      };
      const check = () => {
        if (predicate(this.all())) finish();
      };
      const onAbort = () => finish(new Aborted());
      const timer = setTimeout(() => finish(new Error(`${this.kind}s (${this.labelSelector}): not within ${timeoutMs / 1000} s: ${what}`)), timeoutMs);
      if (signal?.aborted) return finish(new Aborted());
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(check);
      check();
    });
  }
}

export const isTerminating = (p: KubeObject) => Boolean(p.metadata?.deletionTimestamp);
/** Counts toward its controller's replicas (Kubernetes' "active" pods). */
export const isActive = (p: KubeObject) => !isTerminating(p) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
export const isRunning = (p: KubeObject) => p.status?.phase === 'Running';
export const isReady = (p: KubeObject) => (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');

/** A Deployment of `replicas` pods running `command` (the pod-startup benchmark's container). */
export function benchDeployment(name: string, replicas: number, container: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [container], terminationGracePeriodSeconds: 1 } },
      ...extra,
    },
  };
}

/** Deletes a Deployment (its ReplicaSets and pods go with it) and waits until its pods are gone. */
export async function deleteDeployment(client: ApiClient, name: string, pods: WatchSet, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  await client.delete('Deployment', name, { namespace: NAMESPACE }).catch((e) => {
    if ((e as { reason?: string }).reason !== 'NotFound') throw e;
  });
  await pods.until(`the pods of deployment ${name} gone`, (objs) => objs.length === 0, timeoutMs, signal);
}
