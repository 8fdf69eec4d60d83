/**
 * The `docker` container runtime: every container is a Docker container, driven over the
 * Engine API with dockerode.
 *
 * - Host networking: the container shares the node's network and binds its pod IP (a 127.x
 *   address, given as POD_IP), like a process-runtime container; no bridge, no iptables.
 * - `command` replaces the image's ENTRYPOINT and `args` its CMD, as in Kubernetes.
 * - Volumes are bind mounts; `limits.memory` → HostConfig.Memory (swap off, so the OOM killer
 *   acts: reason OOMKilled), `limits.cpu` → NanoCpus, `requests.cpu` → CpuShares.
 * - `Init: true`: docker-init is PID 1 and forwards signals, so stop(grace, signal) works for any
 *   command; stop = the signal, then SIGKILL after the grace period.
 * - Images are never pulled: no registry is reachable from kubeact's nodes (docker-images.ts).
 * - Labels (docker-labels.ts) mark every container with its node, cluster scope and identity:
 *   a restarted kubelet adopts the running ones (recover + adopt) and removes orphans. The
 *   kubelet shutting down leaves containers running, as Kubernetes' kubelet does; `kubeact down`
 *   removes them (sweepDockerContainers).
 * - Logs are the engine's (json-file driver): current and previous instance; the dead
 *   instances before those are removed when a new one starts (kubelet's container GC).
 */
import Docker from 'dockerode';
import type { ContainerCreateOptions, ContainerInspectInfo } from 'dockerode';
import { LABEL, containerLabels, containerName, identityFromLabels, scopeFilters, type ContainerIdentity } from './docker-labels.js';
import { LogDemuxer, demuxLogs } from './docker-logs.js';
import { ensureImage } from './docker-images.js';
import { rfc3339, type RuntimeLogger } from './process.js';
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

export interface DockerRuntimeOptions {
  /** The node's name (a label on its containers). */
  nodeName: string;
  /** Tells this cluster's containers from others on the same engine (the worker's data dir). */
  scope: string;
  /** Engine socket; default DOCKER_HOST or /var/run/docker.sock. */
  socketPath?: string;
  logger?: RuntimeLogger;
}

interface Entry {
  /** `docker://<engine id>`: what the kubelet holds and the pod status shows. */
  id: string;
  engineId: string;
  ident: ContainerIdentity;
  /** Engine creation time (RFC 3339 with nanoseconds): orders the instances of a container. */
  created: string;
  startedAt: string;
  pid?: number;
  status?: ExitStatus;
  exited: Promise<ExitStatus>;
  resolveExit: (status: ExitStatus) => void;
  /** Found by recover(), not yet handed to a pod worker. */
  adoptable: boolean;
  /** This runtime signalled it (stop): an exit 137 is our SIGKILL, not the OOM killer. */
  signalled?: boolean;
}

const nullLogger: RuntimeLogger = { info() {}, warn() {}, error() {}, debug() {} };
const PING_TIMEOUT_MS = 5000;
/** Waiting for a container's exit is retried this often while the engine does not answer. */
const WAIT_RETRY_MS = 1000;
/**
 * The engine may record a memory-limited container's OOM kill after its exit (the OOM event can
 * come after the exit event; seen once in CI as exit 137 with OOMKilled false, and known on
 * cgroup v2 — hashicorp/nomad#13119): an unexplained 137 is read again this often, this many times.
 */
const OOM_RECHECK_MS = 100;
const OOM_RECHECKS = 10;

/** Where the engine is, for messages. */
export function engineAddress(socketPath?: string): string {
  return socketPath ? `unix://${socketPath}` : (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock');
}

/** The engine's error text without dockerode's `(HTTP code …)` prefix. */
export function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string; reason?: string };
  if (e?.json && typeof e.json.message === 'string') return e.json.message;
  const msg = e?.message ?? String(err);
  return msg.replace(/^\(HTTP code \d+\)\s*[\w ]*-\s*/, '').trim();
}

function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number })?.statusCode;
}

/** Go's zero time (`0001-01-01T00:00:00Z`) means "never". */
function engineTime(value: string | undefined): string | undefined {
  if (!value || value.startsWith('0001-')) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : rfc3339(d);
}

/** Kubernetes' ContainerStateTerminated from the engine's State. */
export function exitStatusFromState(state: ContainerInspectInfo['State'], startedAt?: string): ExitStatus {
  const exitCode = state.ExitCode ?? 0;
  const reason = state.OOMKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
  const status: ExitStatus = { exitCode, reason, finishedAt: engineTime(state.FinishedAt) ?? rfc3339() };
  const started = engineTime(state.StartedAt) ?? startedAt;
  if (started) status.startedAt = started;
  if (state.Error) status.message = state.Error;
  return status;
}

export class DockerRuntime implements ContainerRuntime {
  readonly name = 'docker';
  private readonly docker: Docker;
  private readonly opts: DockerRuntimeOptions;
  private readonly log: RuntimeLogger;
  /** By `docker://<engine id>`. */
  private readonly entries = new Map<string, Entry>();
  private readonly aborts = new AbortController();
  private closed = false;

  constructor(opts: DockerRuntimeOptions) {
    this.opts = opts;
    this.log = opts.logger ?? nullLogger;
    this.docker = new Docker(opts.socketPath ? { socketPath: opts.socketPath } : undefined);
  }

  /** A runtime whose engine answered a ping; RuntimeError `RuntimeUnavailable` when none does. */
  static async connect(opts: DockerRuntimeOptions): Promise<DockerRuntime> {
    const runtime = new DockerRuntime(opts);
    await runtime.ping();
    return runtime;
  }

  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.docker.ping(),
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${PING_TIMEOUT_MS / 1000}s`)), PING_TIMEOUT_MS))),
      ]);
    } catch (err) {
      throw new RuntimeError(
        'RuntimeUnavailable',
        `no Docker engine answers at ${engineAddress(this.opts.socketPath)}: ${engineMessage(err)} (start dockerd, or use --runtime process)`,
        { cause: err },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async version(): Promise<string> {
    const v = await this.docker.version();
    return `docker://${v.Version}`;
  }

  /** The engine client (tests read inspect output with it). */
  get engine(): Docker {
    return this.docker;
  }

  // ---------------------------------------------------------------------------------------------
  // start

  async start(config: ContainerConfig): Promise<ContainerHandle> {
    if (this.closed) throw new RuntimeError('RuntimeUnavailable', 'the docker runtime is shut down');
    const running = this.instances(config.podUid, config.name).find((e) => !e.status && e.ident.id === config.id);
    if (running) throw new RuntimeError('ContainerCannotRun', `container ${config.id} is already running`);
    await ensureImage(this.docker, config.image, config.imagePullPolicy ?? 'IfNotPresent');

    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(this.createOptions(config));
    } catch (err) {
      throw new RuntimeError('ContainerCannotRun', `failed to create container "${config.name}": ${engineMessage(err)}`, { cause: err });
    }
    try {
      await container.start();
    } catch (err) {
      // Kubernetes keeps such a container until GC; nothing of it is worth keeping here.
      await container.remove({ force: true }).catch(() => {});
      throw new RuntimeError('StartError', engineMessage(err), { cause: err });
    }
    // The engine's start time (what a later kubelet's recover() reads too) and pid.
    const state = await container.inspect().then((i) => i.State, () => undefined);
    const startedAt = engineTime(state?.StartedAt) ?? rfc3339();
    const entry = this.track(container.id, { ...config }, new Date().toISOString(), startedAt, false);
    if (state?.Pid) entry.pid = state.Pid;
    this.log.info({ id: entry.id, container: config.id, image: config.image }, 'container started');
    void this.collectGarbage(config.podUid, config.name);
    return { id: entry.id, startedAt, ...(entry.pid ? { pid: entry.pid } : {}) };
  }

  private createOptions(config: ContainerConfig): ContainerCreateOptions {
    let entrypoint: string[] | undefined;
    let cmd: string[] | undefined;
    if (config.command !== undefined || config.args !== undefined) {
      if (config.command?.length) {
        entrypoint = config.command;
        cmd = config.args ?? []; // a new entrypoint drops the image's CMD
      } else if (config.args?.length) {
        cmd = config.args;
      }
    } else if (config.argv.length) {
      entrypoint = [config.argv[0]];
      cmd = config.argv.slice(1);
    }
    const limits = config.limits ?? {};
    const hostConfig: NonNullable<ContainerCreateOptions['HostConfig']> = {
      NetworkMode: 'host',
      Init: true,
      RestartPolicy: { Name: 'no' },
      Mounts: (config.mounts ?? []).map((m) => ({ Type: 'bind' as const, Source: m.hostPath, Target: m.containerPath, ReadOnly: m.readOnly })),
    };
    if (limits.memoryBytes) {
      hostConfig.Memory = limits.memoryBytes;
      hostConfig.MemorySwap = limits.memoryBytes; // no swap: over the limit is an OOM kill
    }
    if (limits.cpuMillis) hostConfig.NanoCpus = limits.cpuMillis * 1_000_000;
    if (config.requests?.cpuMillis) hostConfig.CpuShares = Math.max(2, Math.floor((config.requests.cpuMillis * 1024) / 1000));
    return {
      name: containerName(config),
      Image: config.image,
      Entrypoint: entrypoint,
      Cmd: cmd,
      Env: Object.entries(config.env).map(([k, v]) => `${k}=${v}`),
      WorkingDir: config.workingDir,
      Labels: containerLabels(config, this.opts.scope, this.opts.nodeName),
      HostConfig: hostConfig,
    };
  }

  /** Remembers a container and starts waiting for its exit. */
  private track(engineId: string, ident: ContainerIdentity, created: string, startedAt: string, adoptable: boolean, status?: ExitStatus): Entry {
    let resolveExit!: (s: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((resolve) => (resolveExit = resolve));
    const entry: Entry = {
      id: `docker://${engineId}`,
      engineId,
      ident: { id: ident.id, podUid: ident.podUid, podName: ident.podName, namespace: ident.namespace, name: ident.name, restartCount: ident.restartCount },
      created,
      startedAt,
      exited,
      resolveExit,
      adoptable,
    };
    this.entries.set(entry.id, entry);
    if (status) this.settle(entry, status);
    else void this.watchExit(entry);
    return entry;
  }

  private settle(entry: Entry, status: ExitStatus): void {
    if (entry.status) return;
    entry.status = status;
    entry.resolveExit(status);
  }

  /** One long-poll `wait` per running container; retried while the engine is away. */
  private async watchExit(entry: Entry): Promise<void> {
    const container = this.docker.getContainer(entry.engineId);
    while (!entry.status) {
      let waitCode: number | undefined;
      try {
        const res = (await container.wait({ condition: 'not-running', abortSignal: this.aborts.signal } as Docker.ContainerWaitOptions)) as { StatusCode?: number };
        waitCode = res?.StatusCode;
      } catch (err) {
        if (this.closed) return;
        if (statusCode(err) === 404) {
          this.settle(entry, { exitCode: 137, reason: 'Error', message: 'the container was removed', startedAt: entry.startedAt, finishedAt: rfc3339() });
          return;
        }
        this.log.warn({ id: entry.id, err: engineMessage(err) }, 'waiting for the container failed; retrying');
        await new Promise((r) => setTimeout(r, WAIT_RETRY_MS));
        continue;
      }
      try {
        let info = await container.inspect();
        if (info.State.Running) continue; // restarted behind our back; keep waiting
        for (let i = 0; i < OOM_RECHECKS && this.mayBeLateOom(entry, info); i++) {
          await new Promise((r) => setTimeout(r, OOM_RECHECK_MS));
          info = await container.inspect();
        }
        this.settle(entry, await this.startErrorOf(entry, info) ?? exitStatusFromState(info.State, entry.startedAt));
      } catch (err) {
        this.settle(entry, { exitCode: waitCode ?? 137, reason: waitCode === 0 ? 'Completed' : 'Error', startedAt: entry.startedAt, finishedAt: rfc3339() });
        if (statusCode(err) !== 404) this.log.warn({ id: entry.id, err: engineMessage(err) }, 'cannot inspect an exited container');
      }
      const ended = entry.status as ExitStatus | undefined;
      this.log.info({ id: entry.id, exitCode: ended?.exitCode, reason: ended?.reason }, 'container exited');
    }
  }

  /** A SIGKILL exit of a memory-limited container that we did not signal, not (yet) marked OOMKilled. */
  private mayBeLateOom(entry: Entry, info: ContainerInspectInfo): boolean {
    return info.State.ExitCode === 137 && !info.State.OOMKilled && !entry.signalled && !!info.HostConfig?.Memory && !this.closed;
  }

  /**
   * docker-init (PID 1) execs the command, so a missing executable is not a start failure for
   * the engine but an exit 127 with tini's message: reported as Kubernetes does, StartError (128).
   */
  private async startErrorOf(entry: Entry, info: ContainerInspectInfo): Promise<ExitStatus | undefined> {
    if (info.State.ExitCode !== 127 || info.State.OOMKilled) return undefined;
    const text = await this.docker
      .getContainer(entry.engineId)
      .logs({ stdout: true, stderr: true, follow: false, tail: 5 })
      .then((b) => demuxLogs(b))
      .catch(() => '');
    const m = /\[FATAL tini \(\d+\)\] (exec .* failed: .*)/.exec(text);
    if (!m) return undefined;
    const finishedAt = engineTime(info.State.FinishedAt) ?? rfc3339();
    return { exitCode: 128, reason: 'StartError', message: `failed to start container process: ${m[1]}`, startedAt: finishedAt, finishedAt };
  }

  // ---------------------------------------------------------------------------------------------
  // wait / stop / destroy

  async wait(id: string): Promise<ExitStatus> {
    return this.get(id).exited;
  }

  async stop(id: string, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitStatus> {
    const entry = this.get(id);
    if (entry.status) return entry.status;
    let timer: NodeJS.Timeout | undefined;
    if (graceMs <= 0) {
      await this.kill(entry, 'SIGKILL');
    } else {
      this.log.debug({ id, signal, graceMs }, 'stopping container');
      await this.kill(entry, signal);
      timer = setTimeout(() => {
        if (entry.status) return;
        this.log.info({ id, graceMs }, 'grace period over, killing container');
        void this.kill(entry, 'SIGKILL');
      }, graceMs);
    }
    try {
      return await entry.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private async kill(entry: Entry, signal: NodeJS.Signals): Promise<void> {
    entry.signalled = true;
    try {
      await this.docker.getContainer(entry.engineId).kill({ signal });
    } catch (err) {
      // 409: not running any more; 404: gone. The exit watcher reports either.
      const code = statusCode(err);
      if (code !== 409 && code !== 404) this.log.warn({ id: entry.id, signal, err: engineMessage(err) }, 'cannot signal container');
    }
  }

  async destroy(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    if (!entry.status) await this.stop(id, 0);
    await this.removeEntry(entry);
  }

  private async removeEntry(entry: Entry): Promise<void> {
    this.entries.delete(entry.id);
    try {
      await this.docker.getContainer(entry.engineId).remove({ force: true });
    } catch (err) {
      if (statusCode(err) !== 404) this.log.warn({ id: entry.id, err: engineMessage(err) }, 'cannot remove container');
    }
    this.settle(entry, { exitCode: 137, reason: 'Error', message: 'the container was removed', startedAt: entry.startedAt, finishedAt: rfc3339() });
  }

  async removePod(podUid: string): Promise<void> {
    // The engine's view too: containers of this pod the runtime does not track (any more).
    const listed = await this.docker.listContainers({ all: true, filters: JSON.stringify(scopeFilters(this.opts.scope, this.opts.nodeName, { [LABEL.podUid]: podUid })) });
    const ids = new Set([...listed.map((c) => `docker://${c.Id}`), ...[...this.entries.values()].filter((e) => e.ident.podUid === podUid).map((e) => e.id)]);
    await Promise.all(
      [...ids].map((id) => {
        const entry = this.entries.get(id);
        if (entry) return this.removeEntry(entry);
        return this.docker.getContainer(id.slice('docker://'.length)).remove({ force: true }).catch(() => {});
      }),
    );
  }

  /** Kubelet's container GC: of a container's dead instances, only the newest stays (for `logs --previous`). */
  private async collectGarbage(podUid: string, name: string): Promise<void> {
    const dead = this.instances(podUid, name).filter((e) => e.status);
    for (const e of dead.slice(0, -1)) await this.removeEntry(e);
  }

  // ---------------------------------------------------------------------------------------------
  // recover / adopt / inspect

  async recover(): Promise<ContainerInfo[]> {
    const listed = await this.docker.listContainers({ all: true, filters: JSON.stringify(scopeFilters(this.opts.scope, this.opts.nodeName)) });
    const found: Entry[] = [];
    for (const c of listed) {
      if (this.entries.has(`docker://${c.Id}`)) continue;
      const ident = identityFromLabels(c.Labels);
      if (!ident) continue;
      let info: ContainerInspectInfo;
      try {
        info = await this.docker.getContainer(c.Id).inspect();
      } catch {
        continue; // removed meanwhile
      }
      const startedAt = engineTime(info.State.StartedAt) ?? rfc3339();
      const status = info.State.Running ? undefined : exitStatusFromState(info.State, startedAt);
      const entry = this.track(c.Id, ident, info.Created, startedAt, !status, status);
      if (info.State.Pid) entry.pid = info.State.Pid;
      found.push(entry);
    }
    // Two running instances of one container (a crash between start and bookkeeping): the newest stays.
    const byContainer = new Map<string, Entry[]>();
    for (const e of found.filter((x) => !x.status)) {
      const key = `${e.ident.podUid}/${e.ident.name}`;
      byContainer.set(key, [...(byContainer.get(key) ?? []), e]);
    }
    for (const list of byContainer.values()) {
      list.sort((a, b) => a.created.localeCompare(b.created));
      for (const extra of list.slice(0, -1)) {
        this.log.warn({ id: extra.id }, 'removing a duplicate running container');
        await this.removeEntry(extra);
      }
    }
    const infos = found.filter((e) => this.entries.has(e.id)).map(toInfo);
    if (infos.length) this.log.info({ running: infos.filter((i) => i.running).length, exited: infos.filter((i) => !i.running).length }, 'found containers of a previous kubelet');
    return infos;
  }

  async adopt(podUid: string, container: string): Promise<ContainerHandle | undefined> {
    const entry = this.instances(podUid, container).reverse().find((e) => e.adoptable && !e.status);
    if (!entry) return undefined;
    entry.adoptable = false;
    this.log.info({ id: entry.id, container: entry.ident.id }, 'adopted a running container');
    const handle: ContainerHandle = { id: entry.id, startedAt: entry.startedAt };
    if (entry.pid) handle.pid = entry.pid;
    return handle;
  }

  async removeOrphans(keepPodUids: ReadonlySet<string>): Promise<number> {
    const listed = await this.docker.listContainers({ all: true, filters: JSON.stringify(scopeFilters(this.opts.scope, this.opts.nodeName)) });
    let removed = 0;
    for (const c of listed) {
      const ident = identityFromLabels(c.Labels);
      if (ident && keepPodUids.has(ident.podUid)) continue;
      const entry = this.entries.get(`docker://${c.Id}`);
      if (entry) await this.removeEntry(entry);
      else await this.docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
      removed++;
    }
    if (removed) this.log.info({ removed }, 'removed orphaned containers');
    return removed;
  }

  async inspect(id: string): Promise<ContainerInfo | undefined> {
    const entry = this.entries.get(id);
    return entry && toInfo(entry);
  }

  // ---------------------------------------------------------------------------------------------
  // logs / stats

  async logs(podUid: string, container: string, opts: LogOptions = {}): Promise<string> {
    const entry = this.instance(podUid, container, opts.previous ?? false);
    const tail = opts.tailLines === undefined || opts.tailLines < 0 ? undefined : opts.tailLines; // undefined: all
    if (tail === 0) return '';
    try {
      const buf = await this.docker.getContainer(entry.engineId).logs({ stdout: true, stderr: true, follow: false, ...(tail !== undefined ? { tail } : {}) });
      return demuxLogs(Buffer.isBuffer(buf) ? buf : Buffer.from(buf as unknown as string, 'binary'));
    } catch (err) {
      if (statusCode(err) === 404) throw this.notFound(podUid, container, opts.previous ?? false);
      throw err;
    }
  }

  async followLogs(
    podUid: string,
    container: string,
    onText: (text: string) => void,
    signal: AbortSignal,
    opts: { fromStart?: boolean } = {},
  ): Promise<void> {
    if (signal.aborted) return;
    const entry = this.instance(podUid, container, false);
    const stream = (await this.docker
      .getContainer(entry.engineId)
      .logs({ stdout: true, stderr: true, follow: true, ...(opts.fromStart ? {} : { tail: 0 }) })) as unknown as NodeJS.ReadableStream & { destroy?: () => void };
    const demux = new LogDemuxer();
    await new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', onAbort);
        const rest = demux.end();
        if (rest) onText(rest);
        resolve();
      };
      const onAbort = () => {
        stream.destroy?.();
        done();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      stream.on('data', (chunk: Buffer) => {
        const text = demux.push(chunk);
        if (text && !signal.aborted) onText(text);
      });
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', done);
    });
  }

  async stats(id: string): Promise<ContainerStats | undefined> {
    const entry = this.entries.get(id);
    if (!entry || entry.status) return undefined;
    try {
      const s = await this.docker.getContainer(entry.engineId).stats({ stream: false, 'one-shot': true });
      const mem = s.memory_stats as { usage?: number; stats?: Record<string, number> };
      const inactive = mem.stats?.total_inactive_file ?? mem.stats?.inactive_file ?? 0;
      const read = Date.parse(s.read);
      return {
        cpuUsageNanos: s.cpu_stats?.cpu_usage?.total_usage ?? 0,
        memoryBytes: Math.max(0, (mem.usage ?? 0) - inactive),
        timestamp: Number.isNaN(read) || read <= 0 ? Date.now() : read,
      };
    } catch (err) {
      if (statusCode(err) === 404 || statusCode(err) === 409) return undefined;
      throw err;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // close

  /** Stops watching; the containers keep running for the next kubelet to adopt. */
  async close(): Promise<void> {
    this.closed = true;
    this.aborts.abort();
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private get(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry) throw new RuntimeError('NotFound', `container ${id} not found`);
    return entry;
  }

  /** A pod's container's instances, oldest first. */
  private instances(podUid: string, name: string): Entry[] {
    return [...this.entries.values()]
      .filter((e) => e.ident.podUid === podUid && e.ident.name === name)
      .sort((a, b) => a.created.localeCompare(b.created));
  }

  private instance(podUid: string, container: string, previous: boolean): Entry {
    const list = this.instances(podUid, container);
    const pick = list[list.length - (previous ? 2 : 1)];
    if (!pick) throw this.notFound(podUid, container, previous);
    return pick;
  }

  private notFound(podUid: string, container: string, previous: boolean): RuntimeError {
    const any = [...this.entries.values()].find((e) => e.ident.podUid === podUid);
    const pod = any?.ident.podName || podUid;
    return new RuntimeError(
      'NotFound',
      previous ? `previous terminated container "${container}" in pod "${pod}" not found` : `container "${container}" in pod "${pod}" not found`,
    );
  }
}

function toInfo(e: Entry): ContainerInfo {
  const info: ContainerInfo = {
    id: e.id,
    podUid: e.ident.podUid,
    name: e.ident.name,
    restartCount: e.ident.restartCount,
    running: !e.status,
    startedAt: e.startedAt,
  };
  if (e.pid !== undefined) info.pid = e.pid;
  if (e.status) info.exit = e.status;
  return info;
}

/**
 * `kubeact down`: removes every container a worker's docker runtime started (by its scope
 * label). Quietly does nothing when no engine answers. Returns how many were removed.
 */
export async function sweepDockerContainers(scope: string, socketPath?: string): Promise<number> {
  const docker = new Docker(socketPath ? { socketPath } : undefined);
  try {
    const listed = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL.scope}=${scope}`] }) });
    await Promise.all(listed.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
    return listed.length;
  } catch {
    return 0;
  }
}
