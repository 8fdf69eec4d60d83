/**
 * Helpers of the kube-proxy tests: HTTP and UDP requests through service addresses with
 * deadlines, what a bare TCP connect sees, and a watcher of the proxies' metrics snapshots on
 * NATS. Only 127.0.0.0/8 addresses are ever used.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { NatsConnection, Subscription } from 'nats';
import { decode } from '../../protocol/codec.js';
import type { ProxyMetrics, ProxyServiceMetrics } from '../../protocol/messages.js';
import { subjects } from '../../protocol/subjects.js';

/** What the test servers answer: who served, the peer they saw, the request count on that connection. */
export interface Echo {
  pod: string;
  ip: string;
  peer: string;
  n: number;
}

/**
 * A pod's server as a `node -e` script: HTTP on $POD_IP:8080 answering an Echo, UDP echo on
 * $POD_IP:5353 answering `<pod>:<message>`.
 */
export const POD_SERVER_SCRIPT = [
  "const http = require('http'); const dgram = require('dgram');",
  'const pod = process.env.POD_NAME, ip = process.env.POD_IP;',
  'const server = http.createServer((req, res) => {',
  '  const s = req.socket; s.n = (s.n || 0) + 1;',
  "  res.setHeader('content-type', 'application/json');",
  "  res.end(JSON.stringify({ pod, ip, peer: s.remoteAddress + ':' + s.remotePort, n: s.n }));",
  '});',
  'server.keepAliveTimeout = 60000;',
  'server.listen(8080, ip);',
  "const u = dgram.createSocket('udp4');",
  "u.on('message', (m, r) => u.send(Buffer.from(pod + ':' + m), r.port, r.address));",
  'u.bind(5353, ip);',
  "process.on('SIGTERM', () => process.exit(0));",
].join('\n');

/** The same servers in this process (for in-process proxy tests). */
export async function startEchoServers(pod: string, ip: string, httpPort = 8080, udpPort = 5353): Promise<{ close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const s = req.socket as net.Socket & { n?: number };
    s.n = (s.n ?? 0) + 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ pod, ip, peer: `${s.remoteAddress}:${s.remotePort}`, n: s.n }));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(httpPort, ip, () => resolve());
  });
  const u = dgram.createSocket('udp4');
  u.on('message', (m, r) => u.send(Buffer.from(`${pod}:${m}`), r.port, r.address));
  await new Promise<void>((resolve, reject) => {
    u.once('error', reject);
    u.bind(udpPort, ip, () => resolve());
  });
  return {
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => u.close(() => r()));
    },
  };
}

export function assertLoopback(host: string): void {
  if (!/^127\.\d+\.\d+\.\d+$/.test(host)) throw new Error(`test traffic only on 127.0.0.0/8, not ${host}`);
}

/** One GET; a fresh connection unless an agent is given. */
export function httpGet(host: string, port: number, opts: { agent?: http.Agent; timeoutMs?: number; path?: string } = {}): Promise<Echo> {
  assertLoopback(host);
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: opts.path ?? '/', agent: opts.agent ?? false, timeout: opts.timeoutMs ?? 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as Echo);
        } catch {
          reject(new Error(`unexpected answer from ${host}:${port}: ${res.statusCode} ${body.slice(0, 200)}`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}:${port} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** One datagram and its reply. */
export function udpRequest(host: string, port: number, text: string, timeoutMs = 2000, socket?: dgram.Socket): Promise<{ text: string; from: string }> {
  assertLoopback(host);
  return new Promise((resolve, reject) => {
    const s = socket ?? dgram.createSocket('udp4');
    const done = (err?: Error, value?: { text: string; from: string }) => {
      clearTimeout(timer);
      s.off('message', onMessage);
      if (!socket) s.close();
      if (err) reject(err);
      else resolve(value!);
    };
    const onMessage = (m: Buffer, r: dgram.RemoteInfo) => done(undefined, { text: m.toString(), from: `${r.address}:${r.port}` });
    const timer = setTimeout(() => done(new Error(`no UDP reply from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    s.on('message', onMessage);
    s.send(text, port, host, (err) => err && done(err));
  });
}

/** A UDP client socket bound to a loopback address (so the test never binds elsewhere). */
export function udpClient(bindIp = '127.0.0.1'): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, bindIp, () => resolve(s));
  });
}

export type ConnectOutcome = { kind: 'refused' | 'reset' | 'closed' | 'data' | 'timeout' | 'error'; ms: number; detail?: string };

/** Connects, sends an HTTP request, and says what happened first. */
export function tcpOutcome(host: string, port: number, timeoutMs = 3000): Promise<ConnectOutcome> {
  assertLoopback(host);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    let settled = false;
    const done = (kind: ConnectOutcome['kind'], detail?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ kind, ms: performance.now() - t0, detail });
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    s.on('connect', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.on('data', () => done('data'));
    s.on('end', () => done('closed'));
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'ECONNRESET' || e.code === 'EPIPE' ? 'reset' : 'error', e.code ?? e.message));
  });
}

/** Keeps the latest metrics snapshot of every node's proxy; waits for one that satisfies a predicate. */
export class MetricsWatch {
  readonly latest = new Map<string, ProxyMetrics>();
  private readonly sub: Subscription;
  private waiters: { pred: (all: Map<string, ProxyMetrics>) => boolean; resolve: () => void }[] = [];

  constructor(nc: NatsConnection) {
    this.sub = nc.subscribe(subjects.proxyMetricsAll(), {
      callback: (err, msg) => {
        if (err) return;
        const m = decode<ProxyMetrics>(msg.data);
        this.latest.set(m.node, m);
        this.waiters = this.waiters.filter((w) => {
          if (!w.pred(this.latest)) return true;
          w.resolve();
          return false;
        });
      },
    });
  }

  async waitFor(what: string, pred: (all: Map<string, ProxyMetrics>) => boolean, timeoutMs = 15_000): Promise<Map<string, ProxyMetrics>> {
    if (pred(this.latest)) return this.latest;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.waiters.push({ pred, resolve })),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`metrics: ${what} not seen within ${timeoutMs} ms; latest: ${JSON.stringify([...this.latest.values()])}`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    return this.latest;
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}

/** A service port's counters summed over every node's latest snapshot. */
export function serviceTotals(all: Map<string, ProxyMetrics>, namespace: string, name: string, port: string, protocol: 'TCP' | 'UDP' = 'TCP'): { connectionsTotal: number; bytesIn: number; bytesOut: number; requests: number; rejected: number; denied: number; perNode: Record<string, ProxyServiceMetrics | undefined> } {
  const out = { connectionsTotal: 0, bytesIn: 0, bytesOut: 0, requests: 0, rejected: 0, denied: 0, perNode: {} as Record<string, ProxyServiceMetrics | undefined> };
  for (const [node, m] of all) {
    const s = m.services.find((x) => x.namespace === namespace && x.name === name && x.port === port && x.protocol === protocol);
    out.perNode[node] = s;
    if (!s) continue;
    out.connectionsTotal += s.connectionsTotal;
    out.bytesIn += s.bytesIn;
    out.bytesOut += s.bytesOut;
    out.requests += s.requests;
    out.rejected += s.rejected;
    out.denied += s.denied ?? 0;
  }
  return out;
}

/** Which node's proxy serves `protocol/ip:port` according to the latest snapshots. */
export function servingNodes(all: Map<string, ProxyMetrics>, protocol: 'TCP' | 'UDP', address: string): string[] {
  const out: string[] = [];
  for (const [node, m] of all) if (m.listeners.some((l) => l.protocol === protocol && l.address === address && l.state === 'serving')) out.push(node);
  return out.sort();
}
