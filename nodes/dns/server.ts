/**
 * The DNS server's sockets: UDP and TCP on one address and port, answering from the current
 * zone (`respond`, pure). TCP messages carry a 2-byte length prefix (RFC 1035 4.2.2); a
 * connection may send several queries and is closed after `idleMs` without one. Nothing a
 * client sends can throw out of a handler: garbage gets FORMERR or is dropped.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../shared/logger.js';
import { respond } from './answer.js';
import type { Zone } from './zone.js';

export interface DnsServerOptions {
  host: string;
  port: number;
  zone: () => Zone;
  logger?: Logger;
  /** A TCP connection without a query for this long is closed (ms). */
  idleMs?: number;
}

/** Counters, for logs and benchmarks. */
export interface DnsStats {
  udpQueries: number;
  tcpQueries: number;
  truncated: number;
  dropped: number;
}

export class DnsServer {
  private udp?: dgram.Socket;
  private tcp?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  readonly stats: DnsStats = { udpQueries: 0, tcpQueries: 0, truncated: 0, dropped: 0 };

  constructor(private readonly opts: DnsServerOptions) {}

  /** Binds both sockets; rejects (and leaves nothing open) when either cannot bind. */
  async start(): Promise<{ host: string; port: number }> {
    const { host } = this.opts;
    const tcp = net.createServer((socket) => this.onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.opts.port, host, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
    const port = (tcp.address() as net.AddressInfo).port; // the same port for UDP when 0 was asked
    const udp = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(port, host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      udp.close();
      await new Promise((r) => tcp.close(r));
      throw e;
    }
    tcp.on('error', (err) => this.opts.logger?.warn({ err: err.message }, 'dns tcp server error'));
    udp.on('error', (err) => this.opts.logger?.warn({ err: err.message }, 'dns udp socket error'));
    udp.on('message', (msg, rinfo) => this.onDatagram(udp, msg, rinfo));
    this.udp = udp;
    this.tcp = tcp;
    return { host, port };
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const closing: Promise<unknown>[] = [];
    if (this.tcp) closing.push(new Promise((r) => this.tcp!.close(r)));
    if (this.udp) closing.push(new Promise<void>((r) => this.udp!.close(() => r())));
    this.tcp = undefined;
    this.udp = undefined;
    await Promise.all(closing);
  }

  private reply(msg: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
    try {
      const out = respond(this.opts.zone(), msg, transport);
      if (!out) this.stats.dropped++;
      else if (transport === 'udp' && out.length >= 4 && out.readUInt16BE(2) & (1 << 9)) this.stats.truncated++;
      return out;
    } catch (e) {
      // A bug here must not take the server down; the client times out and retries.
      this.opts.logger?.warn({ err: (e as Error).message }, 'dns query failed');
      this.stats.dropped++;
      return undefined;
    }
  }

  private onDatagram(udp: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.stats.udpQueries++;
    const out = this.reply(msg, 'udp');
    if (out) udp.send(out, rinfo.port, rinfo.address, (err) => err && this.opts.logger?.debug({ err: err.message }, 'dns udp send failed'));
  }

  private onConnection(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.setTimeout(this.opts.idleMs ?? 10_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
    let buffered: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      while (buffered.length >= 2) {
        const size = buffered.readUInt16BE(0);
        if (buffered.length < 2 + size) break;
        const msg = buffered.subarray(2, 2 + size);
        buffered = buffered.subarray(2 + size);
        this.stats.tcpQueries++;
        const out = this.reply(msg, 'tcp');
        if (!out) continue;
        const framed = Buffer.alloc(2 + out.length);
        framed.writeUInt16BE(out.length, 0);
        out.copy(framed, 2);
        socket.write(framed);
      }
    });
  }
}
