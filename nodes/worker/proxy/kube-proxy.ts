/**
 * kube-proxy of one node, in userspace: informers on Services and Endpoints; for every
 * service port it listens on the clusterIP (and externalIPs, the node's IP at the nodePort,
 * the LoadBalancer ingress IPs) and forwards each TCP connection or UDP session to a ready
 * endpoint. Level-based: every Service or Endpoints event (and every relist) recomputes that
 * service's plan (`planService`) and the listener set follows it. Counters are published on
 * `kubeact.node.<node>.proxy.metrics` every `metricsMs`. NetworkPolicies are enforced on the
 * connections it carries (policy-gate.ts): a denied TCP connection is reset before any byte is
 * forwarded, a denied UDP datagram dropped, both counted as `denied`.
 */
import type dgram from 'node:dgram';
import type net from 'node:net';
import type { NatsConnection } from 'nats';
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import { isLoopbackIPv4, mergeListeners, planService, serviceKey, servicePortKey, type ListenerSpec } from '../../../actors/proxy/index.js';
import type { ApiClient } from '../../../protocol/client.js';
import { encode } from '../../../protocol/codec.js';
import type { ProxyMetrics } from '../../../protocol/messages.js';
import { nowMicroTime, type KubeObject } from '../../../protocol/objects.js';
import { subjects } from '../../../protocol/subjects.js';
import { Informer } from '../../controllers/informer.js';
import type { Logger } from '../../shared/logger.js';
import { ListenerSet } from './listeners.js';
import type { EndpointStats } from './metrics.js';
import { PolicyGate } from './policy-gate.js';
import { PortState } from './port-state.js';
import { proxyTcp, type Flow } from './tcp.js';
import { UdpProxy } from './udp.js';

export interface KubeProxyOptions {
  client: ApiClient;
  nc: NatsConnection;
  nodeName: string;
  /** The node's address: NodePorts are served there, UDP sessions are bound to it. */
  nodeIP: string;
  logger: Logger;
  /** How often a node retries binding an address another node holds (ms, default 1000). */
  retryMs?: number;
  /** How often the counters are published (ms, default 5000; 0 = never). */
  metricsMs?: number;
  /** UDP sessions idle this long end (ms, default 30000). */
  udpIdleMs?: number;
  /** Relist of Services and Endpoints (ms, default 10000). */
  resyncMs?: number;
  /** Connecting to an endpoint gives up after this long and tries the next (ms, default 3000). */
  connectTimeoutMs?: number;
}

type ServiceObject = Service & KubeObject;
type EndpointsObject = Endpoints & KubeObject;

export class KubeProxy {
  private services?: Informer<ServiceObject>;
  private endpoints?: Informer<EndpointsObject>;
  private readonly ports = new Map<string, PortState>();
  private readonly portsByService = new Map<string, string[]>();
  private readonly listenersByService = new Map<string, ListenerSpec[]>();
  private readonly skippedByService = new Map<string, string>();
  private readonly dirty = new Set<string>();
  private flushScheduled = false;
  private synced = false;
  private stopped = false;
  private readonly listeners: ListenerSet;
  private readonly udp: UdpProxy;
  private readonly gate: PolicyGate;
  private readonly flows = new Set<Flow>();
  private metricsTimer?: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(private readonly opts: KubeProxyOptions) {
    if (!isLoopbackIPv4(opts.nodeIP)) throw new Error(`kube-proxy: node IP ${opts.nodeIP} is outside 127.0.0.0/8`);
    this.log = opts.logger;
    this.listeners = new ListenerSet(
      {
        tcp: (spec, socket) => this.onTcp(spec, socket),
        udp: (spec, socket, msg, rinfo) => this.onUdp(spec, socket, msg, rinfo),
        udpClosed: (spec) => this.udp.listenerClosed(spec),
      },
      { retryMs: opts.retryMs ?? 1000, logger: opts.logger },
    );
    this.gate = new PolicyGate({ client: opts.client, logger: opts.logger, resyncMs: opts.resyncMs });
    this.udp = new UdpProxy({ nodeIP: opts.nodeIP, idleMs: opts.udpIdleMs ?? 30_000, gate: this.gate });
  }

  async start(): Promise<void> {
    const resyncMs = this.opts.resyncMs ?? 10_000;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      const services = new Informer<ServiceObject>(this.opts.client, 'Service', { resyncMs, logger: this.log });
      const endpoints = new Informer<EndpointsObject>(this.opts.client, 'Endpoints', { resyncMs, logger: this.log });
      const mark = (obj: KubeObject) => this.markDirty(serviceKey(obj.metadata?.namespace ?? 'default', obj.metadata?.name ?? ''));
      services.on({ upsert: mark, delete: mark });
      endpoints.on({ upsert: mark, delete: mark });
      try {
        await services.start();
        await endpoints.start();
        await this.gate.start();
        this.services = services;
        this.endpoints = endpoints;
        break;
      } catch (e) {
        services.stop();
        endpoints.stop();
        if (this.stopped) return;
        this.log.info({ err: (e as Error).message, retryInMs: delay }, 'kube-proxy waiting for the API server');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    if (this.stopped) {
      this.services.stop();
      this.endpoints.stop();
      this.gate.stop();
      return;
    }
    this.synced = true;
    for (const svc of this.services.list()) this.dirty.add(serviceKey(svc.metadata?.namespace ?? 'default', svc.metadata?.name ?? ''));
    this.flush();
    this.listeners.start();
    this.udp.start();
    const metricsMs = this.opts.metricsMs ?? 5000;
    if (metricsMs > 0) {
      const tick = () => {
        if (this.stopped) return;
        this.publish();
        this.metricsTimer = setTimeout(tick, metricsMs);
      };
      this.metricsTimer = setTimeout(tick, metricsMs);
    }
    this.log.info({ node: this.opts.nodeName, nodeIP: this.opts.nodeIP, services: this.portsByService.size }, 'kube-proxy ready');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.metricsTimer);
    this.services?.stop();
    this.endpoints?.stop();
    this.gate.stop();
    this.udp.stop();
    await this.listeners.stop();
    // The node's proxy goes away: its connections go with it (as they would with the node).
    for (const f of this.flows) {
      f.client.destroy();
      f.upstream.destroy();
    }
    this.flows.clear();
  }

  /** The counters now (what is published), with open connections' bytes so far. */
  snapshot(): ProxyMetrics {
    const live = new Map<EndpointStats, { in: number; out: number }>();
    for (const f of this.flows) {
      const l = live.get(f.ep) ?? { in: 0, out: 0 };
      l.in += f.client.bytesRead;
      l.out += f.client.bytesWritten;
      live.set(f.ep, l);
    }
    const services = [...this.ports.values()].map((p) => p.stats.snapshot(live));
    services.sort((a, b) => `${a.namespace}/${a.name}:${a.port}/${a.protocol}`.localeCompare(`${b.namespace}/${b.name}:${b.port}/${b.protocol}`));
    return { node: this.opts.nodeName, time: nowMicroTime(), services, listeners: this.listeners.states() };
  }

  /** Publishes a snapshot now (also done every `metricsMs`). */
  publish(): void {
    if (this.opts.nc.isClosed()) return;
    const now = Date.now();
    for (const p of this.ports.values()) p.balancer.prune(now);
    try {
      this.opts.nc.publish(subjects.proxyMetrics(this.opts.nodeName), encode(this.snapshot()));
    } catch (e) {
      this.log.debug({ err: (e as Error).message }, 'metrics not published');
    }
  }

  private onTcp(spec: ListenerSpec, socket: net.Socket): void {
    proxyTcp(socket, this.ports.get(servicePortKey(spec.service)), { flows: this.flows, connectTimeoutMs: this.opts.connectTimeoutMs ?? 3000, gate: this.gate });
  }

  private onUdp(spec: ListenerSpec, socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.udp.handle(spec, socket, msg, rinfo, this.ports.get(servicePortKey(spec.service)));
  }

  private markDirty(key: string): void {
    this.dirty.add(key);
    if (!this.synced || this.flushScheduled || this.stopped) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Recomputes the plan of every changed service, then the listener set. */
  private flush(): void {
    if (this.stopped || !this.services || !this.endpoints) return;
    const keys = [...this.dirty];
    this.dirty.clear();
    for (const key of keys) this.syncService(key);
    const { listeners, conflicts } = mergeListeners(this.listenersByService);
    for (const c of conflicts) this.log.warn({ service: c.service, reason: c.reason }, 'service address conflict');
    this.listeners.reconcile(listeners);
  }

  private syncService(key: string): void {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const svc = this.services!.get(namespace, name);
    const eps = this.endpoints!.get(namespace, name);
    const plan = svc ? planService(svc, eps, { nodeIP: this.opts.nodeIP }) : { ports: [], skipped: [] };
    const skipped = plan.skipped.map((s) => s.reason).join('; ');
    if (skipped !== (this.skippedByService.get(key) ?? '')) {
      if (skipped) this.log.warn({ service: key, reasons: skipped }, 'service partly not proxied');
      this.skippedByService.set(key, skipped);
    }
    if (!skipped) this.skippedByService.delete(key);
    const nextKeys = new Set(plan.ports.map((p) => p.key));
    for (const old of this.portsByService.get(key) ?? []) {
      if (nextKeys.has(old)) continue;
      this.ports.delete(old);
      this.udp.dropPort(old);
    }
    for (const p of plan.ports) {
      let state = this.ports.get(p.key);
      if (!state) {
        state = new PortState(p.key, p.ref);
        this.ports.set(p.key, state);
      }
      state.balancer.setPolicy(p.affinity);
      const removed = state.balancer.setEndpoints(p.endpoints);
      state.stats.syncEndpoints(p.endpoints);
      this.udp.dropEndpoints(p.key, removed);
    }
    if (plan.ports.length) {
      this.portsByService.set(key, plan.ports.map((p) => p.key));
      this.listenersByService.set(key, plan.ports.flatMap((p) => p.listeners));
    } else {
      this.portsByService.delete(key);
      this.listenersByService.delete(key);
    }
  }
}
