/**
 * The Prometheus text endpoint every kubeact daemon can serve (`--prometheus-address HOST:PORT`):
 * one prom-client Registry per process with the process' default metrics and NATS reconnects,
 * served on `GET /metrics` by a plain node:http server on a loopback address.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection } from 'nats';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { isOn } from './args.js';
import type { Logger } from './logger.js';

/** A new registry with the process' default metrics (CPU, memory, event loop lag, GC, handles). */
export function processRegistry(labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** `kubeact_nats_reconnects_total` / `kubeact_nats_disconnects_total` of one connection. */
export function countNatsReconnects(nc: NatsConnection, registry: Registry): void {
  const reconnects = new Counter({ name: 'kubeact_nats_reconnects_total', help: 'Times the NATS connection was re-established.', registers: [registry] });
  const disconnects = new Counter({ name: 'kubeact_nats_disconnects_total', help: 'Times the NATS connection was lost.', registers: [registry] });
  reconnects.inc(0);
  disconnects.inc(0);
  (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'reconnect') reconnects.inc();
      else if (s.type === 'disconnect') disconnects.inc();
    }
  })().catch(() => {});
}

/** `HOST:PORT` of the flag, or undefined when the flag is off/empty. */
export function parsePrometheusAddress(text: string): { host: string; port: number } | undefined {
  if (!text || !isOn(text)) return undefined;
  const i = text.lastIndexOf(':');
  const host = i > 0 ? text.slice(0, i) : '';
  const port = Number(text.slice(i + 1));
  if (!host || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--prometheus-address must be HOST:PORT (e.g. 127.0.0.1:9400) or off, got "${text}"`);
  }
  if (!host.startsWith('127.') && host !== 'localhost') throw new Error(`--prometheus-address must be a loopback address (127.0.0.0/8), got "${host}"`);
  return { host, port };
}

export class PrometheusEndpoint {
  private server?: http.Server;
  url?: string;

  constructor(private readonly opts: { registry: Registry; host: string; port: number; logger: Logger }) {}

  /** Listens; rejects (EADDRINUSE, …) so the daemon can say why it cannot serve its metrics. */
  async start(): Promise<string> {
    const server = http.createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    this.url = `http://${addr.address}:${addr.port}/metrics`;
    this.opts.logger.info({ url: this.url }, 'prometheus endpoint listening');
    return this.url;
  }

  private async serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/metrics' && path !== '/')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    try {
      const text = await this.opts.registry.metrics();
      res.writeHead(200, { 'content-type': this.opts.registry.contentType }).end(text);
    } catch (e) {
      this.opts.logger.warn({ err: (e as Error).message }, 'collecting metrics failed');
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${(e as Error).message}\n`);
    }
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
