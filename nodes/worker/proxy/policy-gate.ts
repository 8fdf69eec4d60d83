/**
 * kube-proxy's NetworkPolicy gate: informers on Pods, Namespaces and NetworkPolicies; for each
 * new connection (TCP) or session (UDP) through a service, the verdict of actors/netpol for the
 * client → chosen endpoint. The source is a pod when the client's address is a pod IP, or else
 * when the client's socket belongs to a pod's process (socket-owner.ts); only looked up when it
 * can change the answer. Denials are logged at most once per `logEveryMs` per service and source.
 */
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { compilePolicies, decide, podIdentity, sourceMatters, type Peer, type PolicySet, type Verdict } from '../../../actors/netpol/index.js';
import type { EndpointTarget, ServicePortRef } from '../../../actors/proxy/index.js';
import type { ApiClient } from '../../../protocol/client.js';
import type { KubeObject } from '../../../protocol/objects.js';
import { Informer } from '../../controllers/informer.js';
import type { Logger } from '../../shared/logger.js';
import { SocketOwners, type SocketAddress } from './socket-owner.js';

const OPEN: Verdict = { allowed: true, policies: [], reason: 'no NetworkPolicy' };

type PodObject = Pod & KubeObject;
type PolicyObject = NetworkPolicy & KubeObject;
type NamespaceObject = Namespace & KubeObject;

/** One connection's client and the service address it reached. */
export interface ClientFlow {
  protocol: 'TCP' | 'UDP';
  client: SocketAddress;
  server: SocketAddress;
  /** The source, once identified (shared by the endpoints tried for one connection). */
  source?: Peer;
}

export interface PolicyGateOptions {
  client: ApiClient;
  logger: Logger;
  resyncMs?: number;
  /** At most one denial log per service and source this often (ms, default 10000). */
  logEveryMs?: number;
  /** Where process information lives (tests point it elsewhere; default /proc). */
  proc?: string;
}

export class PolicyGate {
  private pods?: Informer<PodObject>;
  private policies?: Informer<PolicyObject>;
  private namespaces?: Informer<NamespaceObject>;
  private set: PolicySet = compilePolicies([], []);
  private setDirty = true;
  private readonly podsByIP = new Map<string, PodObject>();
  private podsDirty = true;
  private readonly owners: SocketOwners;
  private readonly lastLog = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly opts: PolicyGateOptions) {
    this.owners = new SocketOwners(opts.proc);
  }

  async start(): Promise<void> {
    const resyncMs = this.opts.resyncMs ?? 10_000;
    const pods = new Informer<PodObject>(this.opts.client, 'Pod', { resyncMs, logger: this.opts.logger });
    const policies = new Informer<PolicyObject>(this.opts.client, 'NetworkPolicy', { resyncMs, logger: this.opts.logger });
    const namespaces = new Informer<NamespaceObject>(this.opts.client, 'Namespace', { resyncMs, logger: this.opts.logger });
    const podsChanged = () => (this.podsDirty = true);
    const setChanged = () => (this.setDirty = true);
    pods.on({ upsert: podsChanged, delete: podsChanged });
    policies.on({ upsert: setChanged, delete: setChanged });
    namespaces.on({ upsert: setChanged, delete: setChanged });
    try {
      await pods.start();
      await policies.start();
      await namespaces.start();
    } catch (e) {
      pods.stop();
      policies.stop();
      namespaces.stop();
      throw e;
    }
    this.pods = pods;
    this.policies = policies;
    this.namespaces = namespaces;
    this.setDirty = true;
    this.podsDirty = true;
  }

  stop(): void {
    this.pods?.stop();
    this.policies?.stop();
    this.namespaces?.stop();
  }

  /** The compiled policies now (recompiled after any policy or namespace change). */
  policySet(): PolicySet {
    if (this.setDirty && this.policies && this.namespaces) {
      this.set = compilePolicies(this.policies.list(), this.namespaces.list());
      this.setDirty = false;
    }
    return this.set;
  }

  /** Whether the client of `flow` may reach `ep`. */
  check(flow: ClientFlow, ep: EndpointTarget): Verdict {
    const set = this.policySet();
    if (set.size === 0) return OPEN;
    const dest = this.peerOf(ep.ip, ep.pod);
    if (!flow.source) flow.source = sourceMatters(set, dest) ? this.identify(flow) : { ip: flow.client.ip };
    return decide(set, { source: flow.source, dest, port: ep.port, protocol: flow.protocol });
  }

  /** Logs a denial, at most once per service and source per `logEveryMs` (with how many were not logged). */
  logDenied(service: ServicePortRef, flow: ClientFlow, ep: EndpointTarget, verdict: Verdict, now = Date.now()): void {
    const source = flow.source?.pod ? `${flow.source.pod.namespace}/${flow.source.pod.name}` : flow.client.ip;
    const key = `${service.namespace}/${service.name}:${service.port}/${service.protocol}|${source}`;
    const last = this.lastLog.get(key);
    if (last && now - last.at < (this.opts.logEveryMs ?? 10_000)) {
      last.suppressed++;
      return;
    }
    if (this.lastLog.size > 1000) this.lastLog.clear();
    this.lastLog.set(key, { at: now, suppressed: 0 });
    this.opts.logger.info(
      {
        service: `${service.namespace}/${service.name}`,
        port: service.port || undefined,
        protocol: flow.protocol,
        source,
        sourceIP: flow.client.ip,
        endpoint: ep.key,
        pod: ep.pod,
        direction: verdict.direction,
        policies: verdict.policies,
        notLoggedBefore: last?.suppressed || undefined,
      },
      `connection denied by NetworkPolicy: ${verdict.reason}`,
    );
  }

  private podByIP(ip: string): PodObject | undefined {
    if (this.podsDirty && this.pods) {
      this.podsByIP.clear();
      for (const p of this.pods.list()) {
        const ip = p.status?.podIP;
        const phase = p.status?.phase;
        if (ip && phase !== 'Succeeded' && phase !== 'Failed') this.podsByIP.set(ip, p);
      }
      this.podsDirty = false;
    }
    return this.podsByIP.get(ip);
  }

  /** A destination: the endpoint's pod (targetRef), else whichever pod has that IP, else just the address. */
  private peerOf(ip: string, podKey?: string): Peer {
    let pod: PodObject | undefined;
    if (podKey) {
      const slash = podKey.indexOf('/');
      pod = this.pods?.get(podKey.slice(0, slash), podKey.slice(slash + 1));
    }
    pod ??= this.podByIP(ip);
    return pod ? { ip, pod: podIdentity(pod) } : { ip };
  }

  /** The source: a pod by its address, else by the process holding the client's socket, else the bare address. */
  private identify(flow: ClientFlow): Peer {
    const byIP = this.podByIP(flow.client.ip);
    if (byIP) return { ip: flow.client.ip, pod: podIdentity(byIP) };
    const ref = this.owners.podOf(flow.protocol, flow.client, flow.server);
    const pod = ref ? this.pods?.get(ref.namespace, ref.name) : undefined;
    return pod ? { ip: flow.client.ip, pod: podIdentity(pod) } : { ip: flow.client.ip };
  }
}
