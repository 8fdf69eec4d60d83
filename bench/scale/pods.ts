/**
 * Creates many pods through the API with a bounded number of requests in flight, and records
 * from one watch when each is bound and Running (timeOrigin-based ms).
 */
import type { ApiClient, Watch } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import type { KubeObject, Pod } from '../../protocol/objects.js';
import { now } from '../pace.js';

export interface PodTimes {
  created?: number;
  bound?: number;
  running?: number;
  deleted?: number;
}

export class ScalePods {
  readonly times = new Map<string, PodTimes>();
  /** How many pods reached each state (counted once per pod). */
  readonly reached = { bound: 0, running: 0, deleted: 0 };
  /** Creates sent again after a timed-out or failed store write. */
  retries = 0;
  private watch?: Watch;
  private waiters: { check: () => boolean; resolve: () => void; reject: (e: Error) => void }[] = [];
  private stopped = false;

  constructor(
    private readonly client: ApiClient,
    readonly label: string,
  ) {}

  async start(): Promise<void> {
    this.watch = await this.client.watch<KubeObject>('Pod', { namespace: 'default', labelSelector: `bench=${this.label}` }, (ev) => {
      const pod = ev.object as Pod;
      const t = this.times.get(pod.metadata!.name!) ?? {};
      this.times.set(pod.metadata!.name!, t);
      const at = now();
      const mark = (field: 'bound' | 'running' | 'deleted') => {
        if (t[field] !== undefined) return;
        t[field] = at;
        this.reached[field]++;
      };
      if (ev.type === 'DELETED') mark('deleted');
      else {
        if (pod.spec?.nodeName) mark('bound');
        if (pod.status?.phase === 'Running') mark('running');
      }
      if (this.waiters.length) this.waiters = this.waiters.filter((w) => (w.check() ? (w.resolve(), false) : true));
    });
  }

  /** Pods created or seen so far (by this bench or by the hold's workloads). */
  get created(): number {
    return this.times.size;
  }

  /** Stops the watch, and every wait and create lane at once (an interrupted or failed run exits promptly). */
  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(new Error('stopped'));
  }

  static manifest(name: string, label: string): KubeObject {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', labels: { bench: label } },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
      },
    };
  }

  async create(name: string): Promise<void> {
    const t = this.times.get(name) ?? {};
    this.times.set(name, t);
    t.created = now();
    // A store write that timed out under load may or may not have happened: try again, and an
    // AlreadyExists then means the first one did (as a client retrying a create would).
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.create(ScalePods.manifest(name, this.label));
        return;
      } catch (e) {
        if (attempt > 1 && e instanceof ApiError && e.reason === Reason.AlreadyExists) return;
        const retryable = e instanceof ApiError && (e.reason === Reason.Timeout || e.reason === Reason.ServiceUnavailable || e.reason === Reason.InternalError);
        if (!retryable || attempt >= 5 || this.stopped) throw e;
        this.retries++;
      }
    }
  }

  /**
   * Creates every pod, at most `window` requests in flight, and with `maxUnbound` at most that
   * many created pods not yet bound (a hold of 100k pods feeds the scheduler at its own pace
   * instead of queueing them all at once).
   */
  async createAll(names: string[], window: number, progress?: (done: number) => void, maxUnbound = Infinity): Promise<void> {
    let next = 0;
    let done = 0;
    const lane = async () => {
      while (next < names.length && !this.stopped) {
        if (next - this.reached.bound >= maxUnbound) {
          await this.until(() => next - this.reached.bound < maxUnbound, 10 * 60_000, 'the scheduler to catch up');
          continue;
        }
        const name = names[next++];
        await this.create(name);
        if (++done % 1000 === 0) progress?.(done);
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, names.length) }, lane));
  }

  /** Resolves when `check` holds (re-evaluated at every watch event), rejects after `timeoutMs`. */
  until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('stopped'));
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        check,
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (e: Error) => (clearTimeout(timer), reject(e)),
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

}
