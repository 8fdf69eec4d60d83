/**
 * The `simulated` container runtime (kwok-style): containers are entries in a map, no process
 * runs. A container "starts" after a configurable delay, fails to start with a configurable
 * probability, runs until stopped (or for `runMs`, then exits 0), and reports synthetic
 * CPU/memory usage from stats() so metrics and autoscaling can be exercised at scale.
 *
 * Timers: one per container only while it starts or when it has a finite run time; a running
 * container otherwise costs one map entry and no timer. Logs are a single synthetic line.
 */
import {
  RuntimeError,
  type ContainerConfig,
  type ContainerHandle,
  type ContainerInfo,
  type ContainerRuntime,
  type ContainerStats,
  type ExitStatus,
  type LogOptions,
} from './types.js';
import { rfc3339 } from './process.js';

export interface SimulatedRuntimeOptions {
  /** Delay before a started container runs, ms (default 0). */
  startDelayMs?: number;
  /** Probability in [0, 1] that a start fails with StartError (default 0). */
  failureRate?: number;
  /** Run time after which a container exits 0 by itself; default: runs until stopped. */
  runMs?: number;
  /**
   * Synthetic usage of one container: CPU in millicores and memory in bytes (defaults: 10m
   * and 16 MiB, or the container's requests when it has them). Called once per stats() sample.
   */
  usage?: (config: SimulatedContainer) => { cpuMillis: number; memoryBytes: number };
  /** Random source in [0, 1) (tests pass a seeded one). */
  random?: () => number;
  /** Clock, ms since the epoch. */
  now?: () => number;
}

/**
 * What a simulated container keeps of its config: the whole one (env, argv, mounts) cost ~1 KB
 * per container for nothing, at 100,000 simulated pods.
 */
export type SimulatedContainer = Pick<ContainerConfig, 'id' | 'podUid' | 'name' | 'image' | 'restartCount' | 'requests'>;

interface Entry {
  config: SimulatedContainer;
  startedAt: string;
  startedMs: number;
  status?: ExitStatus;
  exited: Promise<ExitStatus>;
  resolveExit: (s: ExitStatus) => void;
  timer?: NodeJS.Timeout;
}

const DEFAULT_CPU_MILLIS = 10;
const DEFAULT_MEMORY_BYTES = 16 * 2 ** 20;

export class SimulatedRuntime implements ContainerRuntime {
  readonly name = 'simulated';
  private readonly entries = new Map<string, Entry>();
  /** podUid → ids of its containers (removePod without a scan). */
  private readonly byPod = new Map<string, Set<string>>();
  private readonly opts: SimulatedRuntimeOptions;
  private readonly random: () => number;
  private readonly now: () => number;
  private closed = false;

  constructor(opts: SimulatedRuntimeOptions = {}) {
    const rate = opts.failureRate ?? 0;
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`failureRate must be within [0, 1], got ${rate}`);
    if ((opts.startDelayMs ?? 0) < 0) throw new RangeError(`startDelayMs must not be negative, got ${opts.startDelayMs}`);
    this.opts = opts;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
  }

  async version(): Promise<string> {
    return 'simulated://0.1.0';
  }

  /** Containers currently running. */
  get running(): number {
    let n = 0;
    for (const e of this.entries.values()) if (!e.status) n++;
    return n;
  }

  async start(config: ContainerConfig): Promise<ContainerHandle> {
    if (this.closed) throw new RuntimeError('RuntimeUnavailable', 'the simulated runtime is shut down');
    const existing = this.entries.get(config.id);
    if (existing && !existing.status) throw new RuntimeError('ContainerCannotRun', `container ${config.id} is already running`);
    const delay = this.opts.startDelayMs ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (this.closed) throw new RuntimeError('RuntimeUnavailable', 'the simulated runtime is shut down');
    if ((this.opts.failureRate ?? 0) > 0 && this.random() < this.opts.failureRate!) {
      throw new RuntimeError('StartError', `container "${config.name}": simulated start failure`);
    }
    let resolveExit!: (s: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((r) => (resolveExit = r));
    const kept: SimulatedContainer = { id: config.id, podUid: config.podUid, name: config.name, image: config.image, restartCount: config.restartCount };
    if (config.requests) kept.requests = config.requests;
    const entry: Entry = { config: kept, startedAt: rfc3339(new Date(this.now())), startedMs: this.now(), exited, resolveExit };
    this.entries.set(config.id, entry);
    let ids = this.byPod.get(config.podUid);
    if (!ids) this.byPod.set(config.podUid, (ids = new Set()));
    ids.add(config.id);
    if (this.opts.runMs !== undefined) entry.timer = setTimeout(() => this.exit(entry, 0, 'Completed'), this.opts.runMs);
    return { id: config.id, startedAt: entry.startedAt };
  }

  private exit(entry: Entry, exitCode: number, reason: string, signal?: number): ExitStatus {
    if (entry.status) return entry.status;
    clearTimeout(entry.timer);
    entry.status = { exitCode, reason, startedAt: entry.startedAt, finishedAt: rfc3339(new Date(this.now())) };
    if (signal !== undefined) entry.status.signal = signal;
    entry.resolveExit(entry.status);
    return entry.status;
  }

  async wait(id: string): Promise<ExitStatus> {
    return this.get(id).exited;
  }

  /** A simulated container honours the signal at once: SIGTERM exits 143, as a well-behaved process would. */
  async stop(id: string, _graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitStatus> {
    const entry = this.get(id);
    const signum = signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15;
    return this.exit(entry, 128 + signum, 'Error', signum);
  }

  async destroy(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    if (!entry.status) this.exit(entry, 137, 'Error', 9);
    this.entries.delete(id);
    const ids = this.byPod.get(entry.config.podUid);
    ids?.delete(id);
    if (ids?.size === 0) this.byPod.delete(entry.config.podUid);
  }

  async removePod(podUid: string): Promise<void> {
    for (const id of [...(this.byPod.get(podUid) ?? [])]) await this.destroy(id);
    this.byPod.delete(podUid);
  }

  /** Nothing survives a simulated kubelet. */
  async recover(): Promise<ContainerInfo[]> {
    return [];
  }

  async inspect(id: string): Promise<ContainerInfo | undefined> {
    const e = this.entries.get(id);
    if (!e) return undefined;
    const info: ContainerInfo = { id, podUid: e.config.podUid, name: e.config.name, restartCount: e.config.restartCount, running: !e.status, startedAt: e.startedAt };
    if (e.status) info.exit = e.status;
    return info;
  }

  async logs(podUid: string, container: string, opts: LogOptions = {}): Promise<string> {
    const entries = [...(this.byPod.get(podUid) ?? [])]
      .map((id) => this.entries.get(id)!)
      .filter((e) => e.config.name === container)
      .sort((a, b) => a.config.restartCount - b.config.restartCount);
    const entry = opts.previous ? entries.at(-2) : entries.at(-1);
    if (!entry) {
      throw new RuntimeError('NotFound', opts.previous ? `previous terminated container "${container}" not found` : `container "${container}" has no logs yet`);
    }
    return `simulated container ${entry.config.name} (${entry.config.image}) started at ${entry.startedAt}\n`;
  }

  async followLogs(podUid: string, container: string, onText: (text: string) => void, signal: AbortSignal, opts: { fromStart?: boolean } = {}): Promise<void> {
    if (opts.fromStart) onText(await this.logs(podUid, container));
    const current = [...(this.byPod.get(podUid) ?? [])].map((id) => this.entries.get(id)!).find((e) => e.config.name === container && !e.status);
    if (!current || signal.aborted) return;
    await Promise.race([current.exited, new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
  }

  /** Synthetic usage: CPU time grows linearly at the configured millicores. */
  async stats(id: string): Promise<ContainerStats | undefined> {
    const e = this.entries.get(id);
    if (!e || e.status) return undefined;
    const usage = this.opts.usage?.(e.config) ?? {
      cpuMillis: e.config.requests?.cpuMillis ?? DEFAULT_CPU_MILLIS,
      memoryBytes: e.config.requests?.memoryBytes ?? DEFAULT_MEMORY_BYTES,
    };
    const now = this.now();
    return { cpuUsageNanos: Math.max(0, now - e.startedMs) * usage.cpuMillis * 1000, memoryBytes: usage.memoryBytes, timestamp: now };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const e of this.entries.values()) this.exit(e, 137, 'Error', 9);
  }

  private get(id: string): Entry {
    const e = this.entries.get(id);
    if (!e) throw new RuntimeError('NotFound', `no such container: ${id}`);
    return e;
  }
}
