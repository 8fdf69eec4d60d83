/**
 * Hosts one node-lifecycle actor per Node: feeds it Lease renewals and ticks, and carries
 * out what it decides — Ready=Unknown plus the unreachable NoExecute taint, eviction of the
 * node's pods (graceful deletes, so their controllers replace them), and recovery.
 */
import type { InspectCapture } from '../inspect/capture.js';
import { createActor, type Actor } from 'xstate';
import { disruptionMode, mayStartEviction, nodeLifecycleMachine, type DisruptionMode } from '../../actors/node-lifecycle/index.js';
import type { ApiClient } from '../../protocol/client.js';
import { ApiError, Reason } from '../../protocol/errors.js';
import { NODE_LEASE_NAMESPACE, nowTimestamp, type KubeObject, type Lease, type Node, type Pod } from '../../protocol/objects.js';
import type { EventRecorder } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import { objectKey, type Informer } from './informer.js';

export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';

export interface NodeLifecycleOptions {
  client: ApiClient;
  nodes: Informer<KubeObject>;
  leases: Informer<KubeObject>;
  pods: Informer<KubeObject>;
  events: EventRecorder;
  logger: Logger;
  gracePeriodMs: number;
  evictionTolerationMs: number;
  tickMs?: number;
  /** Inspector capture: the actors report their transitions (none: not inspected). */
  inspect?: InspectCapture;
}

export class NodeLifecycleHost {
  private readonly actors = new Map<string, Actor<typeof nodeLifecycleMachine>>();
  /**
   * Nodes whose actor is not Healthy: only these get TICKs. A Healthy actor's own grace timer
   * (`after`) notices a missed renewal, so ticking 1,000 healthy nodes twice a second would be
   * 2,000 actor events a second for nothing.
   */
  private readonly unhealthy = new Set<string>();
  private timer?: NodeJS.Timeout;
  /** Nodes whose pods are being evicted (started under the disruption rules; retried every tick). */
  private readonly evicting = new Set<string>();
  private lastEvictionStartedAt?: number;
  private mode: DisruptionMode = 'Normal';
  /** Nodes whose eviction pass is running: a tick never starts a second one beside it. */
  private readonly evictionsRunning = new Set<string>();
  /**
   * The pods bound to each node, kept from the pod informer: an eviction pass reads its node's
   * pods instead of scanning every pod in the cluster (1,000 unreachable nodes × 10,000 pods was
   * 10 million checks a tick, measured at 14% of the control plane's CPU in a scale run).
   */
  private readonly podsByNode = new Map<string, Map<string, KubeObject>>();
  private readonly nodeOfPod = new Map<string, string>();
  /**
   * A Healthy node's newest Lease renewal not yet handed to its actor, and when it was observed.
   * Level-based: a renewal of a healthy node only moves its deadline, and an actor event per
   * renewal was ~340 µs (1,000 nodes: 3.4% of the control plane's CPU). The tick hands the
   * latest one over before the actor's deadline comes close (forwardAfterMs), with its
   * observation time, so health is timed exactly as if every renewal had been sent.
   */
  private readonly pendingRenewals = new Map<string, { renewTime: number; observedAt: number }>();
  /** LEASE_RENEWED events sent to actors (tests). */
  renewalsForwarded = 0;

  constructor(private readonly opts: NodeLifecycleOptions) {}

  start(): void {
    const { nodes, leases, pods } = this.opts;
    pods.on({ upsert: (pod) => this.indexPod(pod), delete: (pod) => this.unindexPod(pod) }, { resync: false });
    for (const pod of pods.list()) this.indexPod(pod);
    nodes.on({
      upsert: (node) => this.ensure(node.metadata!.name!),
      delete: (node) => {
        this.actors.get(node.metadata!.name!)?.stop();
        this.actors.delete(node.metadata!.name!);
        this.unhealthy.delete(node.metadata!.name!);
        this.evicting.delete(node.metadata!.name!);
        this.pendingRenewals.delete(node.metadata!.name!);
      },
    });
    leases.on({
      upsert: (lease) => {
        if (lease.metadata?.namespace !== NODE_LEASE_NAMESPACE) return;
        const renewTime = Date.parse((lease as Lease).spec?.renewTime ?? '');
        if (!Number.isFinite(renewTime)) return;
        const name = lease.metadata!.name!;
        const actor = this.ensure(name);
        // The actor times health from this observation (our clock), not from renewTime.
        if (actor) this.observeRenewal(name, actor, renewTime, Date.now());
        // Level-based: a healthy node still carrying our taint (it recovered while the
        // control plane was down, so no actor saw the recovery) gets it removed.
        const node = this.opts.nodes.get(undefined, name);
        if (actor?.getSnapshot().value === 'Healthy' && (node?.spec?.taints ?? []).some((t: { key: string }) => t.key === UNREACHABLE_TAINT)) void this.markReachable(name);
      },
    });
    for (const node of nodes.list()) this.ensure(node.metadata!.name!);
    const tick = () => {
      const now = Date.now();
      this.forwardRenewals(now);
      for (const name of this.unhealthy) this.actors.get(name)?.send({ type: 'TICK', now });
      this.timer = setTimeout(tick, this.opts.tickMs ?? 500);
    };
    this.timer = setTimeout(tick, this.opts.tickMs ?? 500);
  }

  stop(): void {
    clearTimeout(this.timer);
    for (const a of this.actors.values()) a.stop();
    this.actors.clear();
    this.unhealthy.clear();
    this.pendingRenewals.clear();
    this.evicting.clear();
    this.podsByNode.clear();
    this.nodeOfPod.clear();
  }

  /**
   * A healthy node's renewal waits in pendingRenewals while its actor's deadline is far; any
   * other (a node not Healthy, a deadline close) goes to the actor at once.
   */
  private observeRenewal(name: string, actor: Actor<typeof nodeLifecycleMachine>, renewTime: number, now: number): void {
    const pending = this.pendingRenewals.get(name);
    if (renewTime <= Math.max(actor.getSnapshot().context.leaseRenewTime ?? -Infinity, pending?.renewTime ?? -Infinity)) return; // seen already: not a renewal
    if (this.canWait(actor, now)) {
      this.pendingRenewals.set(name, { renewTime, observedAt: now });
      return;
    }
    this.pendingRenewals.delete(name);
    this.renewalsForwarded++;
    actor.send({ type: 'LEASE_RENEWED', renewTime, now });
  }

  /** Hands each pending renewal to its actor once the actor's deadline is near (or it left Healthy). */
  private forwardRenewals(now: number): void {
    for (const [name, p] of this.pendingRenewals) {
      const actor = this.actors.get(name);
      if (actor) {
        if (this.canWait(actor, now)) continue;
        this.renewalsForwarded++;
        actor.send({ type: 'LEASE_RENEWED', renewTime: p.renewTime, now, observedAt: p.observedAt });
      }
      this.pendingRenewals.delete(name);
    }
  }

  /** Whether a renewal of this node may still wait in pendingRenewals: it is Healthy and its deadline is far. */
  private canWait(actor: Actor<typeof nodeLifecycleMachine>, now: number): boolean {
    const snap = actor.getSnapshot();
    return snap.value === 'Healthy' && now - snap.context.renewedAt < this.forwardAfterMs();
  }

  /**
   * How long after its last renewal a Healthy actor hears of the next one: a margin of at least
   * two ticks before its grace period ends (a tick delayed by a busy event loop still runs before
   * the actor's own timer, which is due later). A grace period that leaves no room: at once.
   */
  private forwardAfterMs(): number {
    const grace = this.opts.gracePeriodMs;
    return grace - Math.max(2 * (this.opts.tickMs ?? 500), grace / 4);
  }

  private indexPod(pod: KubeObject): void {
    const key = objectKey(pod);
    const nodeName = (pod as Pod).spec?.nodeName;
    const before = this.nodeOfPod.get(key);
    if (before !== undefined && before !== nodeName) this.unindexKey(key, before);
    if (!nodeName) return;
    let onNode = this.podsByNode.get(nodeName);
    if (!onNode) this.podsByNode.set(nodeName, (onNode = new Map()));
    onNode.set(key, pod);
    this.nodeOfPod.set(key, nodeName);
  }

  private unindexPod(pod: KubeObject): void {
    const key = objectKey(pod);
    const nodeName = this.nodeOfPod.get(key);
    if (nodeName === undefined) return;
    // A delete of an older pod of the same name (its replacement already indexed) changes nothing.
    const indexed = this.podsByNode.get(nodeName)?.get(key);
    if (indexed && pod.metadata?.uid && indexed.metadata?.uid !== pod.metadata.uid) return;
    this.unindexKey(key, nodeName);
  }

  private unindexKey(key: string, nodeName: string): void {
    this.nodeOfPod.delete(key);
    const onNode = this.podsByNode.get(nodeName);
    onNode?.delete(key);
    if (onNode?.size === 0) this.podsByNode.delete(nodeName);
  }

  /** The pods bound to a node, from the index (tests compare it with a full scan). */
  podsOn(nodeName: string): KubeObject[] {
    return [...(this.podsByNode.get(nodeName)?.values() ?? [])];
  }

  /** The state of each node's actor (inspection, tests). */
  states(): Record<string, string> {
    return Object.fromEntries([...this.actors].map(([n, a]) => [n, String(a.getSnapshot().value)]));
  }

  private ensure(name: string): Actor<typeof nodeLifecycleMachine> | undefined {
    const existing = this.actors.get(name);
    if (existing) return existing;
    if (!this.opts.nodes.get(undefined, name)) return undefined; // a lease without a node
    // The grace period runs from when this controller first observes the node (Kubernetes:
    // probeTimestamp = now for a newly observed node), not from the lease's last renewTime:
    // after a control-plane restart that took longer than the grace period, every node's lease
    // is "old", and healthy nodes would be tainted and their pods evicted before their kubelets
    // had a chance to renew against the new API server.
    const now = Date.now();
    const log = this.opts.logger.child({ node: name });
    const machine = nodeLifecycleMachine.provide({
      actions: {
        markUnreachable: (_, p) => {
          log.warn('node stopped posting status: unreachable');
          void this.markUnreachable(p.name);
        },
        markReachable: (_, p) => {
          log.info('node is posting status again');
          void this.markReachable(p.name);
        },
        evictPods: (_, p) => void this.evictPods(p.name),
      },
    });
    const actor = createActor(machine, {
      inspect: this.opts.inspect?.observer({ kind: 'Node', name }),
      input: {
        name,
        now,
        renewedAt: now,
        gracePeriodMs: this.opts.gracePeriodMs,
        evictionTolerationMs: this.opts.evictionTolerationMs,
      },
    });
    this.actors.set(name, actor);
    actor.subscribe((snap) => {
      if (this.actors.get(name) !== actor) return;
      if (snap.value === 'Healthy') {
        this.unhealthy.delete(name);
        this.evicting.delete(name);
      } else this.unhealthy.add(name);
    });
    actor.start();
    return actor;
  }

  private async markUnreachable(name: string): Promise<void> {
    const { client, events } = this.opts;
    const ts = nowTimestamp();
    try {
      const node = await client.modify<KubeObject>('Node', name, undefined, (n) => {
        const taints: any[] = n.spec?.taints ?? [];
        if (taints.some((t) => t.key === UNREACHABLE_TAINT)) return false;
        n.spec = { ...(n.spec ?? {}), taints: [...taints, { key: UNREACHABLE_TAINT, effect: 'NoExecute', timeAdded: ts }] };
      });
      await client.modify<KubeObject>(
        'Node',
        name,
        undefined,
        (n) => {
          const conditions: any[] = n.status?.conditions ?? [];
          if (conditions.find((c) => c.type === 'Ready')?.status === 'Unknown') return false;
          n.status = {
            ...(n.status ?? {}),
            conditions: conditions.map((c) => ({
              ...c,
              status: 'Unknown',
              reason: 'NodeStatusUnknown',
              message: 'Kubelet stopped posting node status.',
              lastTransitionTime: ts,
            })),
          };
        },
        { status: true },
      );
      if (node) events.record(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      await this.markPodsNotReady(name, ts);
    } catch (e) {
      this.opts.logger.warn({ node: name, err: (e as Error).message }, 'could not mark node unreachable');
    }
  }

  /** As Kubernetes' MarkPodsNotReady: nobody vouches for the pods of an unreachable node. */
  private async markPodsNotReady(name: string, ts: string): Promise<void> {
    for (const pod of this.opts.pods.list((p) => (p as Pod).spec?.nodeName === name)) {
      await this.opts.client
        .modify<KubeObject>(
          'Pod',
          pod.metadata!.name!,
          pod.metadata!.namespace,
          (p) => {
            if (p.metadata?.uid !== pod.metadata?.uid) return false;
            const conditions: any[] = p.status?.conditions ?? [];
            if (!conditions.some((c) => (c.type === 'Ready' || c.type === 'ContainersReady') && c.status === 'True')) return false;
            p.status = {
              ...p.status,
              conditions: conditions.map((c) => (c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: 'False', reason: 'NodeNotReady', lastTransitionTime: ts } : c)),
              containerStatuses: (p.status?.containerStatuses ?? []).map((c: any) => ({ ...c, ready: false })),
            };
          },
          { status: true },
        )
        .catch((e) => this.opts.logger.debug({ pod: pod.metadata?.name, err: (e as Error).message }, 'could not mark pod not ready'));
    }
  }

  private async markReachable(name: string): Promise<void> {
    try {
      const node = await this.opts.client.modify<KubeObject>('Node', name, undefined, (n) => {
        const taints: any[] = n.spec?.taints ?? [];
        if (!taints.some((t) => t.key === UNREACHABLE_TAINT)) return false;
        n.spec = { ...n.spec, taints: taints.filter((t) => t.key !== UNREACHABLE_TAINT) };
      });
      if (node) this.opts.events.record(node, 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`);
    } catch (e) {
      this.opts.logger.warn({ node: name, err: (e as Error).message }, 'could not mark node reachable');
    }
  }

  /** The zone disruption mode now (logged when it changes, as kube-controller-manager does). */
  private disruption(): DisruptionMode {
    const notReady = this.unhealthy.size;
    const mode = disruptionMode(this.actors.size - notReady, notReady);
    if (mode !== this.mode) {
      const log = this.opts.logger;
      if (mode === 'FullDisruption') log.warn({ nodes: this.actors.size }, 'Controller detected that all Nodes are not-Ready. Entering master disruption mode: no evictions');
      else if (mode === 'PartialDisruption') log.warn({ notReady, nodes: this.actors.size }, 'zone is partially disrupted: evictions slowed (stopped at 50 nodes or fewer)');
      else log.info({ notReady, nodes: this.actors.size }, 'zone is healthy again: evictions at the normal rate');
      this.mode = mode;
    }
    return mode;
  }

  /**
   * Graceful deletes of every pod on the node that is not already terminating — once the
   * disruption rules let this node's eviction start (the actor asks again on every tick).
   */
  private async evictPods(name: string): Promise<void> {
    const mode = this.disruption();
    if (!this.evicting.has(name)) {
      const now = Date.now();
      if (!mayStartEviction(mode, this.actors.size, now, this.lastEvictionStartedAt)) return;
      this.evicting.add(name);
      this.lastEvictionStartedAt = now;
    } else if (mode === 'FullDisruption') return;
    if (this.evictionsRunning.has(name)) return;
    this.evictionsRunning.add(name);
    try {
      await this.evictFrom(name);
    } finally {
      this.evictionsRunning.delete(name);
    }
  }

  private async evictFrom(name: string): Promise<void> {
    const victims = this.podsOn(name).filter((p) => !p.metadata?.deletionTimestamp);
    for (const pod of victims) {
      try {
        await this.opts.client.delete('Pod', pod.metadata!.name!, { namespace: pod.metadata!.namespace, preconditions: { uid: pod.metadata!.uid } });
        this.opts.events.record(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${pod.metadata!.namespace}/${pod.metadata!.name}`);
        this.opts.logger.info({ node: name, pod: `${pod.metadata!.namespace}/${pod.metadata!.name}` }, 'evicted pod from unreachable node');
      } catch (e) {
        if (!(e instanceof ApiError && (e.reason === Reason.NotFound || e.reason === Reason.Conflict))) {
          this.opts.logger.warn({ pod: pod.metadata?.name, err: (e as Error).message }, 'eviction failed; retried on the next tick');
        }
      }
    }
  }
}

export type { Node };
