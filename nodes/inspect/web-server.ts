/**
 * The web inspector, served by the control plane on a local address: a static page
 * (page.ts, vanilla JS, no CDN), a JSON API over the model, and server-sent events for live
 * updates. Answers `subjects.inspectWeb()` with its URL so `kubeact inspect --web` finds it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NatsConnection, Subscription } from 'nats';
import { encode } from '../../protocol/codec.js';
import type { InspectWebReply } from '../../protocol/inspect.js';
import { subjects } from '../../protocol/subjects.js';
import type { Logger } from '../shared/logger.js';
import { InspectorModel } from './model.js';
import { PAGE_HTML, PAGE_SCRIPT } from './page.js';
import { getMachineGraph } from './store.js';

export interface InspectorServerOptions {
  nc: NatsConnection;
  /** `HOST:PORT`; port 0 picks a free one. Only loopback hosts are accepted. */
  address: string;
  logger?: Logger;
}

export function parseInspectorAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  const host = i < 0 ? address : address.slice(0, i);
  const port = i < 0 ? 0 : Number(address.slice(i + 1));
  if (!/^127\.\d+\.\d+\.\d+$/.test(host) && host !== 'localhost') throw new Error(`--inspector-address must be a loopback address (127.0.0.0/8), got "${address}"`);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--inspector-address: invalid port in "${address}"`);
  return { host, port };
}

export class InspectorServer {
  readonly model: InspectorModel;
  private readonly server: http.Server;
  private readonly streams = new Set<http.ServerResponse>();
  private sub?: Subscription;
  url = '';

  constructor(private readonly opts: InspectorServerOptions) {
    this.model = new InspectorModel(opts.nc, opts.logger);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String((e as Error).message));
      });
    });
  }

  async start(): Promise<string> {
    const { host, port } = parseInspectorAddress(this.opts.address);
    await this.model.start();
    try {
      await this.listen(host, port);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw e;
      this.opts.logger?.warn({ address: this.opts.address }, 'inspector address in use; listening on a free port instead');
      await this.listen(host, 0);
    }
    const addr = this.server.address() as AddressInfo;
    this.url = `http://${host}:${addr.port}/`;
    this.model.onRecords((records) => {
      const data = `data: ${JSON.stringify(records)}\n\n`;
      for (const res of this.streams) res.write(data);
    });
    this.sub = this.opts.nc.subscribe(subjects.inspectWeb(), {
      callback: (_err, msg) => {
        if (msg.reply) msg.respond(encode({ url: this.url } satisfies InspectWebReply));
      },
    });
    this.opts.logger?.info({ url: this.url }, 'web inspector listening');
    return this.url;
  }

  private listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    switch (url.pathname) {
      case '/':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(PAGE_HTML);
        return;
      case '/app.js':
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
        res.end(PAGE_SCRIPT);
        return;
      case '/api/actors':
        json(200, this.model.actors());
        return;
      case '/api/history': {
        const h = this.model.history(url.searchParams.get('key') ?? '');
        if (!h) json(404, { message: 'no such actor' });
        else json(200, h);
        return;
      }
      case '/api/machine': {
        const g = await getMachineGraph(this.opts.nc, url.searchParams.get('id') ?? '');
        if (!g) json(404, { message: 'no such machine' });
        else json(200, g);
        return;
      }
      case '/api/stream':
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(': connected\n\n');
        this.streams.add(res);
        req.on('close', () => this.streams.delete(res));
        return;
      default:
        json(404, { message: 'not found' });
    }
  }

  async stop(): Promise<void> {
    this.sub?.unsubscribe();
    for (const res of this.streams) res.end();
    this.streams.clear();
    this.server.closeAllConnections?.();
    await new Promise<void>((r) => this.server.close(() => r()));
    await this.model.stop();
  }
}
