/**
 * Pod start-up latency: pods created at a fixed pace, each timed from just before
 * `client.create` until a watch delivers the pod with `status.phase === 'Running'`. The same
 * watch stamps the intermediate steps (the ADDED event, the binding, the kubelet's first status
 * write) for the breakdown.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ApiClient, Watch } from '../protocol/client.js';
import { ApiError, Reason } from '../protocol/errors.js';
import type { KubeObject, Pod, WatchEvent } from '../protocol/objects.js';
import { Aborted, now, paced } from './pace.js';

export const BENCH_LABEL = 'kubeact-bench';
const NAMESPACE = 'default';

/** What the benchmark saw of one pod; times are epoch ms (see `now()`). */
export interface PodTimeline {
  name: string;
  uid?: string;
  node?: string;
  /** Just before `client.create`. */
  create?: number;
  /** `client.create` resolved. */
  reply?: number;
  /** Watch: first event (ADDED). */
  added?: number;
  /** Watch: first version with spec.nodeName (the scheduler's bind). */
  bound?: number;
  /** Watch: first version with container statuses (the kubelet's first status write). */
  firstStatus?: number;
  /** Watch: first version with phase Running. */
  running?: number;
  /** Kubelet log: `container started` (runtime.start returned), epoch ms. */
  containerStarted?: number;
  /** Watch events received for the pod up to Running. */
  events: number;
  error?: string;
}

export function benchPod(name: string, runId: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { [BENCH_LABEL]: runId } },
    spec: {
      containers: [
        {
          name: 'sleep',
          image: 'kubeact/sleep:1.0',
          command: ['sleep', '3600'],
          resources: { requests: { cpu: '10m', memory: '8Mi' } },
        },
      ],
      terminationGracePeriodSeconds: 5,
    },
  };
}

export class PodBench {
  private watch?: Watch;
  private readonly timelines = new Map<string, PodTimeline>();
  private readonly gone = new Set<string>();
  /** Every name `create` was called for: what cleanup deletes. */
  readonly created = new Set<string>();
  private changed: () => void = () => {};

  constructor(
    private readonly client: ApiClient,
    private readonly runId: string,
  ) {}

  async start(): Promise<void> {
    this.watch = await this.client.watch<KubeObject>('Pod', { namespace: NAMESPACE, labelSelector: `${BENCH_LABEL}=${this.runId}` }, (ev) => this.onEvent(ev));
  }

  stop(): void {
    this.watch?.stop();
  }

  private onEvent(ev: WatchEvent<KubeObject>): void {
    const t = now();
    const pod = ev.object as Pod;
    const name = pod.metadata?.name ?? '';
    if (ev.type === 'DELETED') {
      this.gone.add(name);
      this.changed();
      return;
    }
    const tl = this.timelines.get(name);
    if (!tl || (tl.uid && pod.metadata?.uid !== tl.uid)) return;
    if (tl.running !== undefined) return;
    tl.events++;
    tl.added ??= t;
    if (pod.spec?.nodeName && tl.bound === undefined) {
      tl.bound = t;
      tl.node = pod.spec.nodeName;
    }
    if (pod.status?.containerStatuses?.length) tl.firstStatus ??= t;
    if (pod.status?.phase === 'Running') {
      tl.running = t;
      this.changed();
    }
  }

  /** Timelines for pods about to be created (so the watch records them from the first event). */
  prepare(names: string[]): PodTimeline[] {
    return names.map((name) => {
      const tl: PodTimeline = { name, events: 0 };
      this.timelines.set(name, tl);
      return tl;
    });
  }

  /**
   * Creates the pods at a fixed pace (one every `intervalMs`, not waiting for earlier creates)
   * while waiting for all of them to be Running, with a progress line every `every` pods.
   */
  async run(names: string[], intervalMs: number, opts: { timeoutMs: number; every: number; say: (l: string) => void; signal?: AbortSignal }): Promise<PodTimeline[]> {
    const tls = this.prepare(names);
    const outcomes = await Promise.allSettled([
      this.createPaced(tls, intervalMs, opts.signal),
      this.waitRunning(tls, opts.timeoutMs, opts.say, opts.every, opts.signal),
    ]);
    const failed = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    return tls;
  }

  async createPaced(tls: PodTimeline[], intervalMs: number, signal?: AbortSignal): Promise<void> {
    await paced(
      tls.length,
      intervalMs,
      async (i) => {
        const tl = tls[i];
        const pod = benchPod(tl.name, this.runId);
        this.created.add(tl.name);
        tl.create = now();
        try {
          const made = await this.client.create(pod);
          tl.reply = now();
          tl.uid = made.metadata?.uid;
        } catch (e) {
          tl.error = (e as Error).message;
          this.changed();
        }
      },
      signal,
    );
  }

  /** Resolves once every pod is Running (or failed to be created); progress every `every` pods. */
  async waitRunning(tls: PodTimeline[], timeoutMs: number, say: (l: string) => void, every = 20, signal?: AbortSignal): Promise<void> {
    const deadline = now() + timeoutMs;
    let reported = 0;
    for (;;) {
      const running = tls.filter((t) => t.running !== undefined).length;
      const failed = tls.filter((t) => t.error).length;
      while (running >= reported + every) {
        reported += every;
        const created = tls.filter((t) => t.reply !== undefined).length;
        say(`  ${reported}/${tls.length} pods Running (${created} created)`);
      }
      if (failed) throw new Error(`${failed} pod create(s) failed, first: ${tls.find((t) => t.error)!.error}`);
      if (running === tls.length) return;
      if (now() > deadline) {
        const stuck = tls.filter((t) => t.running === undefined).map((t) => t.name);
        throw new Error(`${stuck.length} pod(s) not Running after ${timeoutMs / 1000}s: ${stuck.slice(0, 5).join(', ')}${stuck.length > 5 ? ', …' : ''}`);
      }
      await this.nextChange(Math.min(1000, deadline - now()), signal);
    }
  }

  /** Deletes the pods (all at once) and waits until their objects are gone. */
  async deleteAll(names: Iterable<string>, timeoutMs: number, say?: (l: string) => void): Promise<void> {
    const list = [...names];
    if (!list.length) return;
    const results = await Promise.allSettled(
      list.map((name) =>
        this.client.delete('Pod', name, { namespace: NAMESPACE }).catch((e) => {
          if (e instanceof ApiError && e.reason === Reason.NotFound) {
            this.gone.add(name);
            return undefined;
          }
          throw e;
        }),
      ),
    );
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed) say?.(`  ! ${failed} delete request(s) failed; waiting for the rest`);
    const deadline = now() + timeoutMs;
    for (;;) {
      // A pod deleted before the watch saw it (or whose DELETED event was lost) is checked directly.
      const left = list.filter((n) => !this.gone.has(n));
      if (!left.length) break;
      if (now() > deadline) {
        const still = await this.client.list<KubeObject>('Pod', { namespace: NAMESPACE, labelSelector: `${BENCH_LABEL}=${this.runId}` });
        const present = new Set(still.items.map((p) => p.metadata?.name));
        const really = left.filter((n) => present.has(n));
        if (!really.length) break;
        throw new Error(`${really.length} pod(s) still present ${timeoutMs / 1000}s after delete: ${really.slice(0, 5).join(', ')}`);
      }
      await this.nextChange(Math.min(1000, deadline - now()));
    }
    for (const n of list) this.created.delete(n);
  }

  /** Resolves at the next watch-driven change, after `maxMs`, or rejects when `signal` aborts. */
  private nextChange(maxMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const finish = (err?: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.changed = () => {};
        if (err) reject(err);
        else resolve();
      };
      const onAbort = () => finish(new Aborted());
      const timer = setTimeout(() => finish(), Math.max(1, maxMs));
      this.changed = () => finish();
      if (signal?.aborted) return finish(new Aborted());
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * `container started` lines of the kubelets' runtime logs (pino JSON, `time` in epoch ms),
 * by pod uid: when runtime.start returned for the first instance of each container.
 */
export function readContainerStarts(logDir: string): Map<string, number> {
  const starts = new Map<string, number>();
  for (const f of readdirSync(logDir)) {
    if (!f.startsWith('node-')) continue;
    for (const line of readFileSync(path.join(logDir, f), 'utf8').split('\n')) {
      if (!line.includes('"container started"')) continue;
      try {
        const rec = JSON.parse(line) as { time: number; id?: string };
        const uid = rec.id?.split('/')[0];
        if (uid && !starts.has(uid)) starts.set(uid, rec.time);
      } catch {
        // not a JSON line
      }
    }
  }
  return starts;
}
