/**
 * The sockets kube-proxy listens on, and who owns a shared address.
 *
 * Every worker on a host shares its loopback, and only one process can bind a given ip:port
 * (node 20 has no SO_REUSEPORT for `net`, and sharing would split connections between nodes
 * anyway). So every node tries to bind every address it should serve: the first one wins and
 * serves it; the others get EADDRINUSE, keep the address in `standby` and try again every
 * `retryMs`, so when the owner goes away (its process exits, its sockets close) another node
 * takes the address over within one retry period. A node's own NodePort address (its node IP)
 * is never contended. The same scheme works across hosts: each host's loopback then has its
 * own owner.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { ListenerSpec } from '../../../actors/proxy/index.js';
import { isLoopbackIPv4, servicePortKey } from '../../../actors/proxy/index.js';
import type { ProxyListenerState } from '../../../protocol/messages.js';
import type { Logger } from '../../shared/logger.js';

export interface ListenerHandlers {
  tcp(spec: ListenerSpec, socket: net.Socket): void;
  udp(spec: ListenerSpec, socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void;
  /** A UDP listener closed (its sessions end). */
  udpClosed(spec: ListenerSpec): void;
}

type State = 'binding' | 'serving' | 'standby' | 'failed';

interface Slot {
  spec: ListenerSpec;
  state: State;
  error?: string;
  server?: net.Server;
  socket?: dgram.Socket;
  closed: boolean;
  /** The last state logged, so a standby retried every second is logged once. */
  logged?: string;
}

export class ListenerSet {
  private readonly slots = new Map<string, Slot>();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly handlers: ListenerHandlers,
    private readonly opts: { retryMs: number; logger: Logger },
  ) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      for (const slot of this.slots.values()) if (slot.state === 'standby' || slot.state === 'failed') this.bind(slot);
      this.timer = setTimeout(tick, this.opts.retryMs);
    };
    this.timer = setTimeout(tick, this.opts.retryMs);
  }

  /** Listens on every address of `desired` (binding new ones), closes the others. */
  reconcile(desired: ReadonlyMap<string, ListenerSpec>): void {
    if (this.stopped) return;
    for (const [key, slot] of this.slots) {
      if (!desired.has(key)) {
        this.close(slot);
        this.slots.delete(key);
      }
    }
    for (const [key, spec] of desired) {
      const slot = this.slots.get(key);
      if (slot) {
        slot.spec = spec; // same address; the service port it serves may have been renamed
        continue;
      }
      const created: Slot = { spec, state: 'binding', closed: false };
      this.slots.set(key, created);
      this.bind(created);
    }
  }

  states(): ProxyListenerState[] {
    return [...this.slots.values()]
      .map((s) => ({
        address: `${s.spec.ip}:${s.spec.port}`,
        protocol: s.spec.protocol,
        role: s.spec.role,
        service: `${s.spec.service.namespace}/${s.spec.service.name}:${s.spec.service.port}`,
        state: s.state === 'binding' ? ('standby' as const) : s.state,
        ...(s.error ? { error: s.error } : {}),
      }))
      .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  }

  /** Whether this node currently serves the address (`TCP/ip:port`). */
  serving(key: string): boolean {
    return this.slots.get(key)?.state === 'serving';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const closing = [...this.slots.values()].map((s) => this.close(s));
    this.slots.clear();
    await Promise.all(closing);
  }

  private bind(slot: Slot): void {
    const { spec } = slot;
    if (!isLoopbackIPv4(spec.ip)) {
      // planService never asks for one; this is the last line of defence.
      this.settle(slot, 'failed', `${spec.ip} is outside 127.0.0.0/8`);
      return;
    }
    slot.state = 'binding';
    if (spec.protocol === 'TCP') this.bindTcp(slot);
    else this.bindUdp(slot);
  }

  private bindTcp(slot: Slot): void {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => {
      if (slot.closed) socket.destroy();
      else this.handlers.tcp(slot.spec, socket);
    });
    const onError = (err: NodeJS.ErrnoException) => {
      server.close();
      if (slot.closed) return;
      this.bindFailed(slot, err);
    };
    server.once('error', onError);
    server.listen({ host: slot.spec.ip, port: slot.spec.port, exclusive: true, backlog: 1024 }, () => {
      server.off('error', onError);
      if (slot.closed) {
        server.close();
        return;
      }
      server.on('error', (err) => this.opts.logger.warn({ listener: slot.spec.key, err: err.message }, 'listener error'));
      slot.server = server;
      this.settle(slot, 'serving');
    });
  }

  private bindUdp(slot: Slot): void {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    const onError = (err: NodeJS.ErrnoException) => {
      socket.close();
      if (slot.closed) return;
      this.bindFailed(slot, err);
    };
    socket.once('error', onError);
    socket.on('message', (msg, rinfo) => {
      if (!slot.closed) this.handlers.udp(slot.spec, socket, msg, rinfo);
    });
    socket.bind({ address: slot.spec.ip, port: slot.spec.port, exclusive: true }, () => {
      socket.off('error', onError);
      if (slot.closed) {
        socket.close();
        return;
      }
      socket.on('error', (err) => this.opts.logger.warn({ listener: slot.spec.key, err: err.message }, 'listener error'));
      slot.socket = socket;
      this.settle(slot, 'serving');
    });
  }

  private bindFailed(slot: Slot, err: NodeJS.ErrnoException): void {
    // EADDRINUSE: another node's proxy (or another program) holds the address; retried.
    if (err.code === 'EADDRINUSE') this.settle(slot, 'standby', 'address in use (served by another node on this host)');
    else this.settle(slot, 'failed', `${err.code ?? ''} ${err.message}`.trim());
  }

  private settle(slot: Slot, state: State, error?: string): void {
    slot.state = state;
    slot.error = error;
    const line = `${state}|${error ?? ''}`;
    if (slot.logged === line) return;
    slot.logged = line;
    const fields = { listener: slot.spec.key, role: slot.spec.role, service: servicePortKey(slot.spec.service), ...(error ? { reason: error } : {}) };
    if (state === 'serving') this.opts.logger.info(fields, 'serving service address');
    else if (state === 'standby') this.opts.logger.info({ ...fields, retryMs: this.opts.retryMs }, 'service address held elsewhere; standing by');
    else this.opts.logger.warn({ ...fields, retryMs: this.opts.retryMs }, 'cannot listen on service address');
  }

  private close(slot: Slot): Promise<void> {
    slot.closed = true;
    const server = slot.server;
    const socket = slot.socket;
    slot.server = undefined;
    slot.socket = undefined;
    if (slot.state === 'serving') this.opts.logger.info({ listener: slot.spec.key }, 'stopped serving service address');
    slot.state = 'standby';
    if (socket) {
      this.handlers.udpClosed(slot.spec);
      return new Promise((resolve) => socket.close(() => resolve()));
    }
    // Open connections are not cut: they finish on their own (server.close only stops accepting;
    // its callback would wait for them, so it is not awaited).
    server?.close();
    return Promise.resolve();
  }
}
