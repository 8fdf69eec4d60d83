/**
 * UDP through a service address: one session per client address (ip:port) and listener, with
 * its own socket (bound to the node IP) towards the endpoint chosen for the session. Replies
 * from that endpoint go back to the client from the service socket, so the client sees them
 * come from the service address. Sessions idle for `idleMs` end; sessions whose endpoint left
 * the Endpoints end at once (Kubernetes clears UDP conntrack entries of removed endpoints), so
 * the client's next datagram picks a current endpoint.
 */
import dgram from 'node:dgram';
import type { ListenerSpec } from '../../../actors/proxy/index.js';
import { isLoopbackIPv4 } from '../../../actors/proxy/index.js';
import type { EndpointStats, ServiceStats } from './metrics.js';
import type { PolicyGate } from './policy-gate.js';
import type { PortState } from './port-state.js';

interface Session {
  key: string;
  listenerKey: string;
  portKey: string;
  endpoint: string;
  socket: dgram.Socket;
  svc: ServiceStats;
  ep: EndpointStats;
  lastActive: number;
  closed: boolean;
}

export class UdpProxy {
  private readonly sessions = new Map<string, Session>();
  private timer?: NodeJS.Timeout;

  /** NetworkPolicy: a new session's first datagram is dropped (and the session not made) when not allowed. */
  constructor(private readonly opts: { nodeIP: string; idleMs: number; gate?: PolicyGate }) {}

  start(): void {
    const every = Math.max(50, Math.min(1000, Math.floor(this.opts.idleMs / 2)));
    this.timer = setInterval(() => this.sweep(Date.now()), every);
    this.timer.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  handle(spec: ListenerSpec, service: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo, port: PortState | undefined): void {
    const key = `${spec.key}|${rinfo.address}:${rinfo.port}`;
    let session = this.sessions.get(key);
    if (session && session.portKey !== port?.key) {
      this.close(session);
      session = undefined;
    }
    if (!port) return;
    const now = Date.now();
    if (!session) {
      const ep = port.balancer.pick(rinfo.address, now);
      if (!ep || !isLoopbackIPv4(ep.ip)) {
        port.stats.rejected++;
        return;
      }
      const gate = this.opts.gate;
      if (gate) {
        const flow = { protocol: 'UDP' as const, client: { ip: rinfo.address, port: rinfo.port }, server: { ip: spec.ip, port: spec.port } };
        const verdict = gate.check(flow, ep);
        if (!verdict.allowed) {
          port.stats.denied++;
          gate.logDenied(port.ref, flow, ep, verdict);
          return;
        }
      }
      const socket = dgram.createSocket({ type: 'udp4' });
      const created: Session = { key, listenerKey: spec.key, portKey: port.key, endpoint: ep.key, socket, svc: port.stats, ep: port.stats.endpoint(ep), lastActive: now, closed: false };
      session = created;
      this.sessions.set(key, created);
      created.svc.connectionsTotal++;
      created.svc.connectionsActive++;
      created.ep.connectionsTotal++;
      created.ep.connectionsActive++;
      socket.on('error', () => {
        created.ep.failures++;
        this.close(created);
      });
      socket.on('message', (reply, from) => {
        if (created.closed || from.address !== ep.ip || from.port !== ep.port) return;
        created.lastActive = Date.now();
        created.svc.bytesOut += reply.length;
        created.ep.bytesOut += reply.length;
        try {
          service.send(reply, rinfo.port, rinfo.address);
        } catch {
          this.close(created); // the service socket closed under us
        }
      });
      socket.bind({ address: this.opts.nodeIP, port: 0 });
    }
    session.lastActive = now;
    session.svc.bytesIn += msg.length;
    session.ep.bytesIn += msg.length;
    const ep = session.ep.target;
    session.socket.send(msg, ep.port, ep.ip);
  }

  /** Ends the sessions of `portKey` whose endpoint is one of `removed`. */
  dropEndpoints(portKey: string, removed: readonly string[]): void {
    if (!removed.length) return;
    const gone = new Set(removed);
    for (const s of this.sessions.values()) if (s.portKey === portKey && gone.has(s.endpoint)) this.close(s);
  }

  /** Ends every session of a service port (the port is gone). */
  dropPort(portKey: string): void {
    for (const s of this.sessions.values()) if (s.portKey === portKey) this.close(s);
  }

  listenerClosed(spec: ListenerSpec): void {
    for (const s of this.sessions.values()) if (s.listenerKey === spec.key) this.close(s);
  }

  sweep(now: number): void {
    for (const s of this.sessions.values()) if (now - s.lastActive >= this.opts.idleMs) this.close(s);
  }

  stop(): void {
    clearInterval(this.timer);
    for (const s of this.sessions.values()) this.close(s);
  }

  private close(s: Session): void {
    if (s.closed) return;
    s.closed = true;
    if (this.sessions.get(s.key) === s) this.sessions.delete(s.key);
    s.svc.connectionsActive--;
    s.ep.connectionsActive--;
    s.svc.released(s.ep);
    try {
      s.socket.close();
    } catch {
      // already closed
    }
  }
}
