/**
 * The container runtime interface a kubelet drives (after Nomad's task-driver contract):
 * start / wait / stop(grace, signal) / destroy / recover / inspect / logs.
 * Runtimes: `process` (host processes, the default), `docker` (dockerode), later `simulated`.
 */

/** Everything a runtime needs to start one container; the kubelet has already resolved env and `$(VAR)`s. */
export interface ContainerConfig {
  /** Stable id of this container instance, chosen by the kubelet: `<podUid>/<container>/<restartCount>`. */
  id: string;
  podUid: string;
  podName: string;
  namespace: string;
  /** Container name within the pod. */
  name: string;
  image: string;
  /** argv: `command` followed by `args`, already expanded. */
  argv: string[];
  /**
   * `command` and `args` apart (expanded), for runtimes with images: `command` replaces the
   * image's ENTRYPOINT, `args` its CMD (undefined: the image's own).
   */
  command?: string[];
  args?: string[];
  env: Record<string, string>;
  workingDir?: string;
  /** The pod's IP (a 127.x address); the container binds it. */
  podIP: string;
  restartCount: number;
  /** Limits where the runtime can enforce them. */
  limits?: { cpuMillis?: number; memoryBytes?: number };
  /** Requests (for runtimes that set CPU shares / reservations from them). */
  requests?: { cpuMillis?: number; memoryBytes?: number };
  /** Volumes the kubelet prepared on the host, to appear at `containerPath` (docker: bind mounts). */
  mounts?: Mount[];
  /** Kubernetes' imagePullPolicy, already defaulted (runtimes without images ignore it). */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

/** One volume mount, resolved by the kubelet to a host path (subPath already applied). */
export interface Mount {
  /** Volume name in the pod spec. */
  name: string;
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

/** Resource usage of one running container, as the metrics pipeline samples it. */
export interface ContainerStats {
  /** Cumulative CPU time used, in nanoseconds (rate = delta / elapsed). */
  cpuUsageNanos: number;
  /** Working-set memory in bytes. */
  memoryBytes: number;
  /** When the sample was taken, ms since the epoch. */
  timestamp: number;
}

export interface ContainerHandle {
  id: string;
  /** Host pid, when the runtime has one. */
  pid?: number;
  /** RFC 3339. */
  startedAt: string;
}

/** How a container ended, in Kubernetes' terms (ContainerStateTerminated). */
export interface ExitStatus {
  exitCode: number;
  /** Signal number when it was killed by one (Kubernetes reports 128+n as the exit code then). */
  signal?: number;
  /** `Completed` (exit 0), `Error`, `OOMKilled`, `StartError`, `ContainerCannotRun`. */
  reason: string;
  message?: string;
  startedAt?: string;
  finishedAt: string;
}

export interface ContainerInfo {
  id: string;
  podUid: string;
  name: string;
  restartCount: number;
  running: boolean;
  pid?: number;
  startedAt?: string;
  exit?: ExitStatus;
}

export interface LogOptions {
  /** The instance before the current one (after a restart). */
  previous?: boolean;
  tailLines?: number;
}

export interface ContainerRuntime {
  readonly name: string;
  /** Shown as nodeInfo.containerRuntimeVersion, e.g. `process://20.20.2`. */
  version(): Promise<string>;
  /** Starts a container; rejects with RuntimeError (code StartError / ContainerCannotRun) when it cannot. */
  start(config: ContainerConfig): Promise<ContainerHandle>;
  /** Resolves when the container exits (immediately if it already has). */
  wait(id: string): Promise<ExitStatus>;
  /** Sends `signal`, then SIGKILL after `graceMs`; resolves with the exit status. */
  stop(id: string, graceMs: number, signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** Forgets a stopped container and frees what it held (not its logs: those go with removePod). */
  destroy(id: string): Promise<void>;
  /** Removes everything left of a pod (logs, state) once the pod is deleted. */
  removePod(podUid: string): Promise<void>;
  /**
   * After a kubelet restart: what the previous incarnation left behind. The process runtime
   * cannot re-parent host processes, so it kills survivors and reports them as exited.
   */
  recover(): Promise<ContainerInfo[]>;
  inspect(id: string): Promise<ContainerInfo | undefined>;
  /** Log text of a pod's container (current instance, or `previous`). */
  logs(podUid: string, container: string, opts?: LogOptions): Promise<string>;
  /**
   * Streams log text of the current instance (appended after the call, or all of it with
   * `fromStart`) until `signal` aborts or the container exits.
   */
  followLogs(podUid: string, container: string, onText: (text: string) => void, signal: AbortSignal, opts?: FollowOptions): Promise<void>;
  /** Current usage of a running container; undefined when it is not running (or not known). */
  stats?(id: string): Promise<ContainerStats | undefined>;
  /**
   * A running container that recover() found for this pod's container and that no pod worker
   * has claimed yet: the kubelet adopts it instead of starting a duplicate. Runtimes whose
   * containers cannot outlive the kubelet (process) do not have it.
   */
  adopt?(podUid: string, container: string): Promise<ContainerHandle | undefined>;
  /** Removes every container of pods not in `keepPodUids` (after a restart, once the kubelet knows its pods). */
  removeOrphans?(keepPodUids: ReadonlySet<string>): Promise<number>;
  /**
   * Kubelet shutdown. The process runtime stops its containers (they cannot outlive it); the
   * docker runtime leaves them running for the next kubelet to adopt, as Kubernetes does.
   */
  close(): Promise<void>;
}

export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  constructor(
    readonly code: 'StartError' | 'ContainerCannotRun' | 'NotFound' | 'ErrImagePull' | 'ErrImageNeverPull' | 'ImagePullBackOff' | 'RuntimeUnavailable' | 'CreateContainerConfigError',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface FollowOptions {
  /** Start from the beginning of the current log instead of its end. */
  fromStart?: boolean;
  /** Called once the starting position is fixed: text written after this call is delivered. */
  onFollowing?: () => void;
}
