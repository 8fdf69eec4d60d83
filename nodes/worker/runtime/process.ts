/**
 * The `process` container runtime: every container is a plain host process.
 *
 * - No shell: `argv[0]` is exec'd with `argv.slice(1)`, environment = exactly `config.env`
 *   (plus the kubelet's PATH when the container defines none), cwd = `workingDir`.
 * - Each container runs in its own session / process group (`detached`), so stop() signals the
 *   whole group (`kill(-pid)`), like a container runtime signals everything in the container.
 *   When the main process exits, what is left of its group is SIGKILLed too (a container's
 *   processes die with its init).
 * - stdout and stderr go straight to an append-mode log file descriptor handed to the child:
 *   nothing is piped through node, so a container never depends on the kubelet's event loop
 *   (a busy or stopped kubelet cannot block its writes).
 * - A small state file per container lets a restarted kubelet find what its predecessor left
 *   running (recover()). Host processes cannot be re-parented, so survivors are killed; their
 *   cgroups are removed (one the kernel OOM-killed meanwhile is reported OOMKilled).
 *
 * - stats(): CPU and memory of the container's whole process group, from /proc (proc-stats.ts).
 * - Memory limit: enforced by sampling every `memoryCheckMs`; a group over its limit is SIGKILLed
 *   and reported `OOMKilled` (exit code 137), as the kernel's cgroup OOM killer would. A burst
 *   shorter than the interval goes unseen. Where the kubelet may write cgroups (cgroups.ts), CPU
 *   limits are CFS quotas and memory limits the kernel's, with sampling kept as the fallback.
 *
 * - Volumes (`config.mounts`): the container runs in its own mount namespace where its volumes are
 *   bind-mounted on their paths (mount-preamble.ts); needs root and unshare(1).
 *
 * Not in scope yet: the pod IP (the kubelet passes it in env; nothing stops a process from binding elsewhere),
 * log rotation.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { GroupSampler } from './proc-stats.js';
import { detectCgroups, type CgroupSupport, type ContainerCgroup } from './cgroups.js';
import { UNSHARE, mountedArgv, volumeMounts } from './mount-preamble.js';
import {
  RuntimeError,
  type ContainerConfig,
  type ContainerHandle,
  type ContainerInfo,
  type ContainerRuntime,
  type ContainerStats,
  type ExitStatus,
  type FollowOptions,
  type LogOptions,
} from './types.js';

type LogFn = (obj: Record<string, unknown>, msg?: string) => void;
/** The subset of a pino logger the runtime uses. */
export interface RuntimeLogger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  debug: LogFn;
}

export interface ProcessRuntimeOptions {
  /** Root of logs (`pods/<podUid>/<container>/<restartCount>.log`) and state (`containers/*.json`). */
  dataDir: string;
  logger?: RuntimeLogger;
  /**
   * Wrap containers with `setpriv --pdeathsig KILL` when /usr/bin/setpriv exists (default true).
   * Only switched off to measure its cost.
   */
  pdeathsig?: boolean;
  /** How often followLogs looks for new text (ms, default 100). */
  followPollMs?: number;
  /** How often containers with a memory limit are checked against it (ms, default 1000). */
  memoryCheckMs?: number;
  /**
   * CPU and memory limits through cgroups: `detect` (default) finds what the kubelet may write,
   * `off` enforces memory by sampling only and CPU not at all.
   */
  cgroups?: 'detect' | 'off';
}

/** What is written to `<dataDir>/containers/<id>.json`. */
interface StateFile {
  id: string;
  podUid: string;
  podName: string;
  name: string;
  restartCount: number;
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot): tells our process from a recycled pid. */
  startTime?: string;
  startedAt: string;
  /** Written when the container exits while the kubelet runs. */
  exit?: ExitStatus;
}

interface Entry {
  id: string;
  podUid: string;
  podName: string;
  name: string;
  restartCount: number;
  pid?: number;
  startTime?: string;
  startedAt: string;
  status?: ExitStatus;
  exited: Promise<ExitStatus>;
  resolveExit: (status: ExitStatus) => void;
  /** State-file operations, serialised so a late write never resurrects a deleted file. */
  stateOps: Promise<void>;
  destroyed: boolean;
  memoryLimitBytes?: number;
  /** Killed for going over its memory limit. */
  oomKilled?: boolean;
  /** Its cgroup(s) when limits are enforced through cgroups. */
  cgroup?: ContainerCgroup;
}

const SETPRIV = '/usr/bin/setpriv';
const CLOSE_GRACE_MS = 2000;
const RECOVER_KILL_DEADLINE_MS = 3000;

/** RFC 3339 to the second, as Kubernetes prints times: `2026-01-01T00:00:00Z`. */
export function rfc3339(date = new Date()): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

const nullLogger: RuntimeLogger = { info() {}, warn() {}, error() {}, debug() {} };

export class ProcessRuntime implements ContainerRuntime {
  readonly name = 'process';
  private readonly dataDir: string;
  private readonly log: RuntimeLogger;
  private readonly wantPdeathsig: boolean;
  private readonly followPollMs: number;
  private readonly entries = new Map<string, Entry>();
  /** podUid → pod name, for error messages. */
  private readonly podNames = new Map<string, string>();
  private setprivProbe?: Promise<boolean>;
  private closed = false;
  private readonly sampler = new GroupSampler();
  private readonly memoryCheckMs: number;
  private memoryTimer?: NodeJS.Timeout;
  /** What cgroups can enforce here (none: CPU limits are not enforced, memory by sampling only). */
  readonly cgroups?: CgroupSupport;

  constructor(opts: ProcessRuntimeOptions) {
    this.dataDir = path.resolve(opts.dataDir);
    this.log = opts.logger ?? nullLogger;
    this.wantPdeathsig = opts.pdeathsig ?? true;
    this.followPollMs = opts.followPollMs ?? 100;
    this.memoryCheckMs = opts.memoryCheckMs ?? 1000;
    if (opts.cgroups !== 'off') {
      const found = detectCgroups();
      this.cgroups = found.support;
      if (found.support) this.log.info({ cgroups: found.reason }, 'cpu and memory limits enforced through cgroups');
      else this.log.warn({ cgroups: found.reason }, 'cgroups not writable: CPU limits are not enforced, memory limits by sampling only');
    }
  }

  async stats(id: string): Promise<ContainerStats | undefined> {
    const entry = this.entries.get(id);
    if (!entry || entry.status || entry.pid === undefined) return undefined;
    const usage = await this.sampler.usage(entry.pid);
    if (!usage || entry.status) return undefined;
    return { cpuUsageNanos: usage.cpuNanos, memoryBytes: usage.rssBytes, timestamp: Date.now() };
  }

  /** Kills every running container whose group is over its memory limit (the OOM killer's job). */
  private async checkMemory(): Promise<void> {
    const limited = [...this.entries.values()].filter((e) => !e.status && e.memoryLimitBytes !== undefined && e.pid !== undefined);
    await Promise.all(
      limited.map(async (e) => {
        const usage = await this.sampler.usage(e.pid!);
        if (!usage || e.status || usage.rssBytes <= e.memoryLimitBytes!) return;
        e.oomKilled = true;
        this.log.warn({ id: e.id, rssBytes: usage.rssBytes, limitBytes: e.memoryLimitBytes }, 'container over its memory limit, killing it');
        killGroup(e.pid!, 'SIGKILL');
      }),
    );
  }

  /** Runs the memory check while some running container has a limit. */
  private armMemoryCheck(): void {
    if (this.memoryTimer || this.closed) return;
    const tick = async () => {
      await this.checkMemory().catch((err) => this.log.warn({ err: errMessage(err) }, 'memory check failed'));
      const any = [...this.entries.values()].some((e) => !e.status && e.memoryLimitBytes !== undefined);
      this.memoryTimer = any && !this.closed ? setTimeout(tick, this.memoryCheckMs) : undefined;
    };
    this.memoryTimer = setTimeout(tick, this.memoryCheckMs);
  }

  async version(): Promise<string> {
    return `process://${process.versions.node}`;
  }

  // ---------------------------------------------------------------------------------------------
  // start

  async start(config: ContainerConfig): Promise<ContainerHandle> {
    if (this.closed) throw new RuntimeError('RuntimeUnavailable', 'the process runtime is shut down');
    checkPathPart('pod uid', config.podUid);
    checkPathPart('container name', config.name);
    const existing = this.entries.get(config.id);
    if (existing && !existing.status) {
      throw new RuntimeError('ContainerCannotRun', `container ${config.id} is already running`);
    }
    if (config.argv.length === 0 || !config.argv[0]) {
      throw new RuntimeError(
        'StartError',
        `container "${config.name}" has no command: the process runtime runs \`command\`/\`args\` on the host (image entrypoints exist only with a container engine)`,
      );
    }
    this.podNames.set(config.podUid, config.podName);

    const env: Record<string, string> = { ...config.env };
    if (env.PATH === undefined && process.env.PATH !== undefined) env.PATH = process.env.PATH;

    // Without a workingDir the container starts in the kubelet's directory (images have no WORKDIR here).
    const cwd = path.resolve(config.workingDir ?? process.cwd());
    const mounts = volumeMounts(config.mounts);
    if (mounts.length && (process.getuid?.() !== 0 || !fs.existsSync(UNSHARE))) {
      throw new RuntimeError('StartError', `container "${config.name}" has volume mounts: the process runtime needs root and ${UNSHARE} for them`);
    }
    // A workingDir inside a volume exists only once the volume is mounted (the preamble enters it).
    if (!mounts.some((m) => isInside(cwd, m.containerPath))) await checkWorkingDir(cwd);
    // setpriv would exec the command itself, so a missing executable would only show as exit 127:
    // look it up first, as runc does, to fail the start with Kubernetes' message.
    await lookPath(config.argv[0], env.PATH ?? '', cwd);

    const logPath = this.logPath(config.podUid, config.name, config.restartCount);
    await fsp.mkdir(path.dirname(logPath), { recursive: true });
    const logFd = fs.openSync(logPath, 'a');

    // PR_SET_PDEATHSIG: the kernel sends SIGKILL to the container when the thread that spawned it
    // (node's main thread) dies, so a SIGKILLed kubelet does not leave orphaned containers behind.
    // setpriv sets it and exec()s the command (same pid, nothing stays in between; the attribute
    // survives exec). It only covers the container's main process: its own children are orphaned
    // and are killed by the next kubelet's recover() (which kills the whole process group).
    const wrap = this.wantPdeathsig && (await this.setprivAvailable());
    // Volumes: unshare and sh exec() in turn, so the pid (and its pdeathsig) stays the container's.
    const argv = mounts.length ? mountedArgv(mounts, config.argv, cwd) : config.argv;
    const file = wrap ? SETPRIV : argv[0];
    const args = wrap ? ['--pdeathsig', 'KILL', '--', ...argv] : argv.slice(1);

    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        cwd: mounts.length ? '/' : cwd,
        env,
        detached: true,
        stdio: ['ignore', logFd, logFd],
        windowsHide: true,
      });
    } catch (err) {
      fs.closeSync(logFd);
      throw new RuntimeError('StartError', `failed to start container "${config.name}": ${errMessage(err)}`, { cause: err });
    }

    let resolveExit!: (s: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((resolve) => (resolveExit = resolve));
    const entry: Entry = {
      id: config.id,
      podUid: config.podUid,
      podName: config.podName,
      name: config.name,
      restartCount: config.restartCount,
      startedAt: rfc3339(),
      exited,
      resolveExit,
      stateOps: Promise.resolve(),
      destroyed: false,
    };
    if (config.limits?.memoryBytes) entry.memoryLimitBytes = config.limits.memoryBytes;

    // Listening before anything else: 'exit' cannot come before 'spawn', but never miss it.
    child.once('exit', (code, signal) => {
      if (entry.pid !== undefined) this.onExit(entry, code, signal);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const onSpawn = () => {
          child.off('error', onError);
          entry.pid = child.pid;
          // Read now, while the process (or at worst its zombie) is still there.
          if (child.pid !== undefined) entry.startTime = readStartTime(child.pid);
          resolve();
        };
        const onError = (err: NodeJS.ErrnoException) => {
          child.off('spawn', onSpawn);
          reject(err);
        };
        child.once('spawn', onSpawn);
        child.once('error', onError);
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const msg =
        e.code === 'ENOENT'
          ? `exec: "${config.argv[0]}": executable file not found in $PATH`
          : e.code === 'EACCES'
            ? `exec: "${config.argv[0]}": permission denied`
            : `failed to start container "${config.name}": ${e.message}`;
      throw new RuntimeError('StartError', msg, { cause: err });
    } finally {
      // The child has its own copy of the descriptor.
      fs.closeSync(logFd);
    }

    child.on('error', (err) => this.log.warn({ id: entry.id, err: errMessage(err) }, 'container process error'));
    this.placeInCgroup(entry, config);
    this.entries.set(entry.id, entry);
    this.writeState(entry);
    if (entry.memoryLimitBytes !== undefined) this.armMemoryCheck();
    this.log.info({ id: entry.id, pid: entry.pid, argv: config.argv, wrapped: wrap }, 'container started');
    return { id: entry.id, pid: entry.pid, startedAt: entry.startedAt };
  }

  /** Limits through cgroups when they work here; a failure leaves the sampling fallback (said in the log). */
  private placeInCgroup(entry: Entry, config: ContainerConfig): void {
    const limits = config.limits;
    if (!this.cgroups || entry.pid === undefined || !limits || (!limits.cpuMillis && !limits.memoryBytes)) return;
    try {
      entry.cgroup = this.cgroups.place(config.podUid, config.name, entry.pid, limits);
    } catch (err) {
      this.log.warn({ id: entry.id, err: errMessage(err) }, 'could not place the container in its cgroup: its CPU limit is not enforced, memory by sampling');
    }
  }

  private onExit(entry: Entry, code: number | null, signal: NodeJS.Signals | null): void {
    // The kernel's OOM killer (cgroup memory limit) reports like the sampling check does.
    if (!entry.oomKilled && signal === 'SIGKILL' && entry.cgroup?.oomKilled()) entry.oomKilled = true;
    const signum = signal ? (osConstants.signals[signal] ?? 0) : undefined;
    const exitCode = code ?? 128 + (signum ?? 0);
    const status: ExitStatus = {
      exitCode,
      reason: entry.oomKilled ? 'OOMKilled' : exitCode === 0 && !signal ? 'Completed' : 'Error',
      startedAt: entry.startedAt,
      finishedAt: rfc3339(),
    };
    if (signum !== undefined) status.signal = signum;
    entry.status = status;
    // Whatever the main process left running in its group dies with it, as in a container.
    // The pid cannot have been reused while its process group still has members.
    if (entry.pid !== undefined) killGroup(entry.pid, 'SIGKILL');
    void entry.cgroup?.remove();
    this.writeState(entry);
    this.log.info({ id: entry.id, exitCode, signal: signal ?? undefined }, 'container exited');
    entry.resolveExit(status);
  }

  // ---------------------------------------------------------------------------------------------
  // wait / stop / destroy

  async wait(id: string): Promise<ExitStatus> {
    return this.get(id).exited;
  }

  async stop(id: string, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitStatus> {
    const entry = this.get(id);
    if (entry.status) return entry.status;
    const pid = entry.pid!;
    // Every stop() arms its own SIGKILL timer: a later stop with a shorter grace shortens the wait.
    let timer: NodeJS.Timeout | undefined;
    if (graceMs <= 0) {
      killGroup(pid, 'SIGKILL');
    } else {
      this.log.debug({ id, signal, graceMs }, 'stopping container');
      killGroup(pid, signal);
      timer = setTimeout(() => {
        if (!entry.status) {
          this.log.info({ id, graceMs }, 'grace period over, killing container');
          killGroup(pid, 'SIGKILL');
        }
      }, graceMs);
    }
    try {
      return await entry.exited;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  async destroy(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    if (!entry.status) await this.stop(id, 0);
    this.entries.delete(id);
    entry.destroyed = true;
    const file = this.statePath(id);
    entry.stateOps = entry.stateOps.then(() => fsp.rm(file, { force: true })).catch(() => {});
    await entry.stateOps;
  }

  async removePod(podUid: string): Promise<void> {
    checkPathPart('pod uid', podUid);
    const own = [...this.entries.values()].filter((e) => e.podUid === podUid);
    await Promise.all(own.map((e) => this.destroy(e.id)));
    this.podNames.delete(podUid);
    await fsp.rm(path.join(this.dataDir, 'pods', podUid), { recursive: true, force: true });
  }

  // ---------------------------------------------------------------------------------------------
  // recover / inspect

  async recover(): Promise<ContainerInfo[]> {
    const dir = path.join(this.dataDir, 'containers');
    let files: string[];
    try {
      files = (await fsp.readdir(dir)).filter((f) => f.endsWith('.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const infos: ContainerInfo[] = [];
    for (const f of files) {
      const file = path.join(dir, f);
      let state: StateFile;
      try {
        state = JSON.parse(await fsp.readFile(file, 'utf8')) as StateFile;
      } catch (err) {
        this.log.warn({ file, err: errMessage(err) }, 'unreadable container state file, dropped');
        await fsp.rm(file, { force: true });
        continue;
      }
      if (this.entries.has(state.id)) continue; // one of ours (recover() called late)
      // Its cgroup outlives the previous kubelet: read its OOM count, then remove it (unless a
      // container of ours of the same name already runs in it).
      const cgroup = this.hasRunning(state.podUid, state.name) ? undefined : this.cgroups?.find(state.podUid, state.name);
      let exit = state.exit;
      if (!exit) {
        const killed = await killSurvivor(state);
        if (killed) this.log.warn({ id: state.id, pid: state.pid }, 'killed a container left by the previous kubelet');
        const oomKilled = !killed && cgroup?.oomKilled();
        exit = {
          exitCode: 137,
          reason: oomKilled ? 'OOMKilled' : 'Error',
          ...(oomKilled
            ? {}
            : {
                message: killed
                  ? 'the kubelet restarted: the process runtime cannot re-attach to a running container, so it was killed'
                  : 'the kubelet restarted while the container ran; its exit status is unknown',
              }),
          startedAt: state.startedAt,
          finishedAt: rfc3339(),
        };
        if (killed) exit.signal = 9;
      }
      await cgroup?.remove();
      await fsp.rm(file, { force: true });
      // Remembered as an exited container, so that inspect / wait / destroy work on it.
      const entry: Entry = {
        id: state.id,
        podUid: state.podUid,
        podName: state.podName,
        name: state.name,
        restartCount: state.restartCount,
        pid: state.pid,
        startTime: state.startTime,
        startedAt: state.startedAt,
        status: exit,
        exited: Promise.resolve(exit),
        resolveExit: () => {},
        stateOps: Promise.resolve(),
        destroyed: false,
      };
      this.entries.set(entry.id, entry);
      if (state.podName) this.podNames.set(state.podUid, state.podName);
      infos.push(toInfo(entry));
    }
    return infos;
  }

  async inspect(id: string): Promise<ContainerInfo | undefined> {
    const entry = this.entries.get(id);
    return entry && toInfo(entry);
  }

  // ---------------------------------------------------------------------------------------------
  // logs

  async logs(podUid: string, container: string, opts: LogOptions = {}): Promise<string> {
    const file = await this.logFile(podUid, container, opts.previous ?? false);
    return readTail(file, opts.tailLines);
  }

  /**
   * Streams the current instance's log text appended after the call (or all of it with
   * `fromStart`), until `signal` aborts or the container exits (after the last text is flushed).
   * `fromStart` is an extension of the runtime interface, for `kubectl logs -f` without a gap.
   */
  async followLogs(
    podUid: string,
    container: string,
    onText: (text: string) => void,
    signal: AbortSignal,
    opts: FollowOptions = {},
  ): Promise<void> {
    if (signal.aborted) return;
    const file = await this.logFile(podUid, container, false);
    const restartCount = Number(path.basename(file, '.log'));
    const entry = [...this.entries.values()].find(
      (e) => e.podUid === podUid && e.name === container && e.restartCount === restartCount,
    );
    const fh = await fsp.open(file, 'r');
    const decoder = new StringDecoder('utf8');
    const buf = Buffer.alloc(64 * 1024);
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    const onAbort = () => wake?.();
    try {
      let pos = opts.fromStart ? 0 : (await fh.stat()).size;
      opts.onFollowing?.();
      const drain = async () => {
        for (;;) {
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) return;
          pos += bytesRead;
          const text = decoder.write(buf.subarray(0, bytesRead));
          if (text) onText(text);
        }
      };
      const finish = async () => {
        await drain();
        const rest = decoder.end();
        if (rest) onText(rest);
      };
      if (!entry || entry.status) return await finish();
      let exited = false;
      void entry.exited.then(() => {
        exited = true;
        wake?.();
      });
      signal.addEventListener('abort', onAbort, { once: true });
      for (;;) {
        await drain();
        if (signal.aborted) return;
        if (exited) return await finish();
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, this.followPollMs);
        });
        clearTimeout(timer);
        wake = undefined;
        if (signal.aborted) return;
      }
    } finally {
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      await fh.close();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // close

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.memoryTimer);
    const running = [...this.entries.values()].filter((e) => !e.status);
    await Promise.all(running.map((e) => this.stop(e.id, CLOSE_GRACE_MS)));
    await Promise.all([...this.entries.values()].map((e) => e.stateOps));
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private hasRunning(podUid: string, name: string): boolean {
    for (const e of this.entries.values()) if (e.podUid === podUid && e.name === name && !e.status) return true;
    return false;
  }

  private get(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry) throw new RuntimeError('NotFound', `container ${id} not found`);
    return entry;
  }

  private logPath(podUid: string, container: string, restartCount: number): string {
    return path.join(this.dataDir, 'pods', podUid, container, `${restartCount}.log`);
  }

  private statePath(id: string): string {
    return path.join(this.dataDir, 'containers', `${id.replace(/\//g, '_')}.json`);
  }

  /** The current (highest-numbered) or previous log file of a pod's container. */
  private async logFile(podUid: string, container: string, previous: boolean): Promise<string> {
    checkPathPart('pod uid', podUid);
    checkPathPart('container name', container);
    const dir = path.join(this.dataDir, 'pods', podUid, container);
    let names: string[] = [];
    try {
      names = await fsp.readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const counts = names
      .map((n) => /^(\d+)\.log$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a);
    const pod = this.podNames.get(podUid) ?? podUid;
    const pick = counts[previous ? 1 : 0];
    if (pick === undefined) {
      throw new RuntimeError(
        'NotFound',
        previous
          ? `previous terminated container "${container}" in pod "${pod}" not found`
          : `container "${container}" in pod "${pod}" not found`,
      );
    }
    return path.join(dir, `${pick}.log`);
  }

  private writeState(entry: Entry): void {
    if (entry.pid === undefined) return;
    const state: StateFile = {
      id: entry.id,
      podUid: entry.podUid,
      podName: entry.podName,
      name: entry.name,
      restartCount: entry.restartCount,
      pid: entry.pid,
      startTime: entry.startTime,
      startedAt: entry.startedAt,
      exit: entry.status,
    };
    const file = this.statePath(entry.id);
    entry.stateOps = entry.stateOps
      .then(async () => {
        if (entry.destroyed) return;
        await fsp.mkdir(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        await fsp.writeFile(tmp, JSON.stringify(state));
        await fsp.rename(tmp, file);
      })
      .catch((err) => this.log.warn({ id: entry.id, err: errMessage(err) }, 'cannot write container state'));
  }

  private setprivAvailable(): Promise<boolean> {
    this.setprivProbe ??= new Promise<boolean>((resolve) => {
      if (!fs.existsSync(SETPRIV)) return resolve(false);
      // --pdeathsig appeared in util-linux 2.33.
      execFile(SETPRIV, ['--help'], (err, stdout) => {
        const ok = !err && stdout.includes('--pdeathsig');
        if (!ok) this.log.warn({}, `${SETPRIV} lacks --pdeathsig: containers will outlive a killed kubelet`);
        resolve(ok);
      });
    });
    return this.setprivProbe;
  }
}

function toInfo(e: Entry): ContainerInfo {
  const info: ContainerInfo = {
    id: e.id,
    podUid: e.podUid,
    name: e.name,
    restartCount: e.restartCount,
    running: !e.status,
    startedAt: e.startedAt,
  };
  if (e.pid !== undefined) info.pid = e.pid;
  if (e.status) info.exit = e.status;
  return info;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Pod uids and container names become path components: refuse anything that could escape. */
function checkPathPart(what: string, value: string): void {
  if (!value || value === '.' || value === '..' || value.includes('/') || value.includes('\0')) {
    throw new RuntimeError('ContainerCannotRun', `invalid ${what} ${JSON.stringify(value)}`);
  }
}

function isInside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

async function checkWorkingDir(cwd: string): Promise<void> {
  let problem: string | undefined;
  try {
    if (!(await fsp.stat(cwd)).isDirectory()) problem = 'not a directory';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problem = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : errMessage(err);
  }
  if (problem) {
    // What Kubernetes (containerd + runc) reports for a bad workingDir, minus the shim layers.
    throw new RuntimeError(
      'StartError',
      `failed to create containerd task: OCI runtime create failed: unable to start container process: ` +
        `chdir to cwd ("${cwd}") set in config.json failed: ${problem}`,
    );
  }
}

async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const st = await fsp.stat(file);
    if (!st.isFile()) return false;
    await fsp.access(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Go's exec.LookPath, which runc uses: fails the start with Kubernetes' messages. */
async function lookPath(cmd: string, pathEnv: string, cwd: string): Promise<void> {
  if (cmd.includes('/')) {
    const file = path.resolve(cwd, cmd);
    try {
      await fsp.stat(file);
    } catch {
      throw new RuntimeError('StartError', `exec: "${cmd}": stat ${cmd}: no such file or directory`);
    }
    if (!(await isExecutableFile(file))) throw new RuntimeError('StartError', `exec: "${cmd}": permission denied`);
    return;
  }
  for (const dir of pathEnv.split(':')) {
    if (await isExecutableFile(path.resolve(cwd, dir || '.', cmd))) return;
  }
  throw new RuntimeError('StartError', `exec: "${cmd}": executable file not found in $PATH`);
}

/** Field 22 (starttime) of /proc/<pid>/stat, or undefined when the process is gone. */
function readStartTime(pid: number): string | undefined {
  return readStat(pid)?.startTime;
}

/** State (field 3), process group (field 5) and start time (field 22) of a process. */
function readStat(pid: number): { state: string; pgrp: number; startTime: string } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) is in parentheses and may itself contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0], pgrp: Number(fields[2]), startTime: fields[19] };
}

/** Is this pid still our process (same start time, not a zombie)? */
function isOurs(pid: number, startTime: string | undefined): boolean {
  const st = readStat(pid);
  return st !== undefined && st.state !== 'Z' && startTime !== undefined && st.startTime === startTime;
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Kills what a previous kubelet left of a container: the whole group when its leader is still
 * ours; when the leader is gone, the group members it orphaned (pdeathsig only kills the leader).
 * Returns whether anything was killed; waits (bounded) until the leader is gone.
 */
async function killSurvivor(state: StateFile): Promise<boolean> {
  const { pid, startTime } = state;
  if (!Number.isInteger(pid) || pid <= 1) return false;
  if (isOurs(pid, startTime)) {
    killGroup(pid, 'SIGKILL');
    const deadline = Date.now() + RECOVER_KILL_DEADLINE_MS;
    while (isOurs(pid, startTime) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return true;
  }
  // The leader is gone. If its pid is still taken by some other process, the group cannot be ours;
  // but it may be our leader's own zombie, not reaped yet by init (pdeathsig killed it when the
  // previous kubelet died, and init reaps orphans when it gets to it): its group is still ours.
  const leader = readStat(pid);
  if (leader !== undefined && !(leader.state === 'Z' && startTime !== undefined && leader.startTime === startTime)) return false;
  // A pid stays reserved while a process group of that id exists, so members of group `pid`
  // started after our leader are the orphans of our container.
  let found = false;
  for (const name of await fsp.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st && st.pgrp === pid && st.state !== 'Z' && (!startTime || BigInt(st.startTime) >= BigInt(startTime))) {
      found = true;
      break;
    }
  }
  if (found) killGroup(pid, 'SIGKILL');
  return found;
}

async function readTail(file: string, tailLines?: number): Promise<string> {
  if (tailLines === undefined || tailLines < 0) return fsp.readFile(file, 'utf8');
  if (tailLines === 0) return '';
  // Read backwards in chunks until enough lines are in hand.
  const fh = await fsp.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const chunks: Buffer[] = [];
    let pos = size;
    let newlines = 0;
    const chunkSize = 64 * 1024;
    while (pos > 0 && newlines <= tailLines) {
      const len = Math.min(chunkSize, pos);
      pos -= len;
      const chunk = Buffer.alloc(len);
      await fh.read(chunk, 0, len, pos);
      chunks.unshift(chunk);
      for (const b of chunk) if (b === 0x0a) newlines++;
    }
    const text = Buffer.concat(chunks).toString('utf8');
    const trailing = text.endsWith('\n');
    const lines = (trailing ? text.slice(0, -1) : text).split('\n');
    return lines.slice(-tailLines).join('\n') + (trailing ? '\n' : '');
  } finally {
    await fh.close();
  }
}
