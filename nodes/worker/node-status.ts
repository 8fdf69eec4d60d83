/**
 * The Node object a kubelet registers, and its heartbeat: a Lease in `kube-node-lease`
 * renewed every heartbeat interval (cheap), plus the Node's Ready condition refreshed less
 * often, as Kubernetes does since node leases.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import { NODE_LEASE_NAMESPACE, nowMicroTime, nowTimestamp, type KubeObject, type Node } from '../../protocol/objects.js';
import type { Logger } from '../shared/logger.js';
import type { StaggeredTicker } from '../shared/staggered-ticker.js';

export interface NodeConfig {
  name: string;
  nodeIP: string;
  podCIDR: string;
  cpu: string;
  memory: string;
  maxPods: number;
  labels: Record<string, string>;
  runtimeVersion: string;
  /** Lease renewal period; the node-lifecycle controller's grace period is a few of these. */
  heartbeatMs: number;
  /** Every how many heartbeats the Node's own Ready condition is refreshed. */
  statusEvery: number;
}

export const KUBELET_VERSION = 'v1.32.0-kubeact';

export function buildNode(cfg: NodeConfig, now = Date.now()): KubeObject {
  const ts = nowTimestamp(now);
  const resources = { cpu: cfg.cpu, memory: cfg.memory, pods: String(cfg.maxPods), 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: cfg.name,
      labels: {
        'kubernetes.io/hostname': cfg.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
        'beta.kubernetes.io/os': 'linux',
        ...cfg.labels,
      },
      annotations: { 'kubeact.io/runtime': cfg.runtimeVersion.split(':')[0] },
    },
    spec: { podCIDR: cfg.podCIDR, podCIDRs: [cfg.podCIDR] },
    status: {
      capacity: resources,
      allocatable: resources,
      addresses: [
        { type: 'InternalIP', address: cfg.nodeIP },
        { type: 'Hostname', address: cfg.name },
      ],
      conditions: nodeConditions(ts, ts),
      daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: os.release(),
        osImage: osImage(),
        containerRuntimeVersion: cfg.runtimeVersion,
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      },
    },
  };
}

function nodeConditions(heartbeat: string, transition: string) {
  const ok = (type: string, reason: string, message: string) => ({ type, status: 'False', reason, message, lastHeartbeatTime: heartbeat, lastTransitionTime: transition });
  return [
    ok('MemoryPressure', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    ok('DiskPressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    ok('PIDPressure', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: heartbeat, lastTransitionTime: transition },
  ];
}

function osImage(): string {
  try {
    const text = readFileSync('/etc/os-release', 'utf8');
    return text.match(/^PRETTY_NAME="?([^"\n]*)"?/m)?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

/** Registers the Node (creating it, or taking over an existing one of the same name). */
export async function registerNode(client: ApiClient, cfg: NodeConfig, log: Logger): Promise<Node> {
  const desired = buildNode(cfg);
  try {
    const created = await client.create(desired);
    log.info({ node: cfg.name }, 'node registered');
    return created as Node;
  } catch (e) {
    if (!(e instanceof ApiError && e.reason === Reason.AlreadyExists)) throw e;
  }
  // Re-registration after a restart: labels and capacity are ours to set; keep cordon state.
  await client.modify<KubeObject>('Node', cfg.name, undefined, (node) => {
    node.metadata!.labels = { ...(node.metadata!.labels ?? {}), ...desired.metadata!.labels };
    node.metadata!.annotations = { ...(node.metadata!.annotations ?? {}), ...desired.metadata!.annotations };
    node.spec = { ...desired.spec, unschedulable: node.spec?.unschedulable, taints: node.spec?.taints };
  });
  const updated = await client.modify<KubeObject>(
    'Node',
    cfg.name,
    undefined,
    (node) => {
      node.status = desired.status;
    },
    { status: true },
  );
  log.info({ node: cfg.name }, 'node re-registered');
  return updated as Node;
}

/** Heartbeats: renews the Lease every beat, refreshes the Node's conditions every `statusEvery` beats. */
export class Heartbeat {
  private timer?: NodeJS.Timeout;
  private beats = 0;
  private leaseVersion?: string;
  private stopped = false;
  private readonly client: ApiClient;

  private removeFromTicker?: () => void;

  constructor(
    client: ApiClient,
    private readonly cfg: NodeConfig,
    private readonly log: Logger,
    /** Shared by many nodes of one process (its period is the heartbeat interval); none: an own timer. */
    private readonly ticker?: StaggeredTicker,
  ) {
    // Each heartbeat request gives up within one interval: a renewal sent to a control plane
    // that is being killed gets no answer, and waiting the client's usual 5 s for it would hold
    // back the next renewals past the node-monitor grace period (3 s) of the restarted one.
    // Node-critical: the API server serves these ahead of workload requests (kube's system-node-high).
    this.client = new ApiClient(client.nc, { timeoutMs: Math.max(500, cfg.heartbeatMs), priority: 'node-critical' });
  }

  start(): void {
    if (this.ticker) {
      this.removeFromTicker = this.ticker.add(() => this.beat(), { runNow: true });
      return;
    }
    const tick = async () => {
      await this.beat();
      if (!this.stopped) this.timer = setTimeout(tick, this.cfg.heartbeatMs);
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.removeFromTicker?.();
  }

  /** One heartbeat: the Lease, and every `statusEvery` beats the Node's conditions. */
  private async beat(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.renewLease();
      if (this.beats % this.cfg.statusEvery === 0) await this.refreshNodeStatus();
      this.beats++;
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'heartbeat failed');
      this.leaseVersion = undefined;
    }
  }

  private async renewLease(): Promise<void> {
    const now = nowMicroTime();
    const seconds = Math.max(1, Math.ceil((this.cfg.heartbeatMs * 4) / 1000));
    const lease: KubeObject = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.cfg.name, namespace: NODE_LEASE_NAMESPACE, resourceVersion: this.leaseVersion },
      spec: { holderIdentity: this.cfg.name, leaseDurationSeconds: seconds, renewTime: now },
    };
    try {
      const written = this.leaseVersion ? await this.client.update(lease) : (await this.client.apply(lease)).object;
      this.leaseVersion = written.metadata?.resourceVersion;
    } catch (e) {
      this.leaseVersion = undefined; // someone else wrote it: re-read on the next beat via apply
      throw e;
    }
  }

  private async refreshNodeStatus(): Promise<void> {
    const ts = nowTimestamp();
    await this.client.modify<KubeObject>(
      'Node',
      this.cfg.name,
      undefined,
      (node) => {
        const conditions: any[] = node.status?.conditions ?? [];
        const ready = conditions.find((c) => c.type === 'Ready');
        const transition = ready && ready.status === 'True' ? ready.lastTransitionTime : ts;
        node.status = { ...(node.status ?? {}), conditions: nodeConditions(ts, transition) };
      },
      { status: true },
    );
  }
}
