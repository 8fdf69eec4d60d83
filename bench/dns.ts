/**
 * Cluster DNS: query latency through the kube-dns ClusterIP (kube-proxy, UDP) against the same
 * query sent straight to the DNS server, same run, interleaved: chunks of `chunk` sequential
 * A queries for a Service name on one UDP socket alternate between the two paths until each has
 * `queries` samples. p50/p99 of each, and the p50 the proxy adds.
 *
 * Standalone: `node dist/bench/dns.js` brings up its own one-node cluster in a temporary home.
 */
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { ApiClient } from '../protocol/client.js';
import type { ClusterContext } from '../nodes/launcher/context.js';
import type { KubeObject } from '../protocol/objects.js';
import { now, throwIfAborted } from './pace.js';
import { runIfMain } from './standalone.js';
import { summarize, fmtMs, type Summary } from './stats.js';

export interface DnsBenchResult {
  queries: number;
  name: string;
  viaClusterIP: Summary;
  direct: Summary;
}

export interface DnsBenchOptions {
  runId: string;
  say: (line: string) => void;
  signal?: AbortSignal;
  queries?: number;
  chunk?: number;
}

/** One UDP socket, one query at a time; answers are matched by id. */
class UdpAsker {
  private readonly sock = dgram.createSocket('udp4');
  private pending?: { id: number; resolve: (b: Buffer) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
  private nextId = 1;

  constructor() {
    this.sock.on('message', (msg) => {
      const p = this.pending;
      if (!p || msg.length < 2 || msg.readUInt16BE(0) !== p.id) return;
      clearTimeout(p.timer);
      this.pending = undefined;
      p.resolve(msg);
    });
  }

  ask(host: string, port: number, name: string, timeoutMs = 2000): Promise<Buffer> {
    const id = (this.nextId = (this.nextId % 0xffff) + 1);
    const msg = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: 'A', class: 'IN' }] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = { id, resolve, reject, timer };
      this.sock.send(msg, port, host);
    });
  }

  close(): void {
    this.sock.close();
  }
}

function answerOf(reply: Buffer): string | undefined {
  const p = dnsPacket.decode(reply);
  const a = (p.answers ?? []).find((x) => x.type === 'A') as { data?: unknown } | undefined;
  return typeof a?.data === 'string' ? a.data : undefined;
}

export async function dnsBench(client: ApiClient, ctx: ClusterContext, opts: DnsBenchOptions): Promise<DnsBenchResult> {
  if (!ctx.dnsListen || !ctx.clusterDNS) throw new Error('the cluster runs no DNS server (--dns-listen off)');
  const [host, portText] = ctx.dnsListen.split(':');
  const server = { host, port: Number(portText) };
  const queries = opts.queries ?? 2000;
  const chunk = opts.chunk ?? 100;
  const svcName = `bench-dns-${opts.runId}`;
  const name = `${svcName}.default.svc.${ctx.clusterDomain ?? 'cluster.local'}`;
  const svc = await client.create<KubeObject>({ apiVersion: 'v1', kind: 'Service', metadata: { name: svcName, namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
  const asker = new UdpAsker();
  try {
    // The zone and kube-proxy's kube-dns listener follow the store a moment later: wait for both.
    const deadline = Date.now() + 30_000;
    for (const target of [server, { host: ctx.clusterDNS, port: 53 }]) {
      for (;;) {
        throwIfAborted(opts.signal);
        const got = await asker.ask(target.host, target.port, name, 500).then(answerOf, () => undefined);
        if (got === svc.spec.clusterIP) break;
        if (Date.now() > deadline) throw new Error(`${target.host}:${target.port} does not answer ${name} with ${svc.spec.clusterIP}`);
        await new Promise((r) => setTimeout(r, 100)); // polling a condition with a deadline
      }
    }
    const direct: number[] = [];
    const proxied: number[] = [];
    const warm = 200;
    for (let i = 0; i < warm; i++) await asker.ask(i % 2 ? server.host : ctx.clusterDNS, i % 2 ? server.port : 53, name);
    opts.say(`  ${queries} A queries per path, chunks of ${chunk} alternating: kube-dns ClusterIP ${ctx.clusterDNS}:53 vs the server ${ctx.dnsListen}`);
    let turn = 0;
    while (direct.length < queries || proxied.length < queries) {
      throwIfAborted(opts.signal);
      const viaProxy = turn++ % 2 === 0;
      const [target, into] = viaProxy ? [{ host: ctx.clusterDNS, port: 53 }, proxied] : [server, direct];
      if (into.length >= queries) continue;
      for (let i = 0; i < chunk && into.length < queries; i++) {
        const t0 = now();
        const reply = await asker.ask(target.host, target.port, name);
        into.push(now() - t0);
        if (answerOf(reply) !== svc.spec.clusterIP) throw new Error(`wrong answer from ${target.host}:${target.port}`);
      }
    }
    return { queries, name, viaClusterIP: summarize(proxied), direct: summarize(direct) };
  } finally {
    asker.close();
    await client.delete('Service', svcName, { namespace: 'default' }).catch(() => {});
  }
}

const us = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;

/** Rows of the benchmark table. */
export function dnsRows(r: DnsBenchResult | undefined): string[] {
  if (!r) return [];
  return (['p50', 'p99'] as const).map(
    (p) => `| DNS A query ${p} through the kube-dns ClusterIP (kube-proxy, UDP; ${r.queries} sequential) | ${fmtMs(r.viaClusterIP[p])} | straight to the DNS server ${p}: ${fmtMs(r.direct[p])} | +${us(r.viaClusterIP[p] - r.direct[p])} |`,
  );
}

export const DNS_BENCH_DESCRIPTION = `- **Cluster DNS**: A queries for a Service name, one UDP socket in the benchmark process,
  sequential; chunks of 100 alternate between the kube-dns ClusterIP (through kube-proxy's UDP
  sessions, to the control plane's DNS server) and the DNS server's own address, so both see the
  same machine noise. The difference is what the proxy hop costs a lookup.
`;

runIfMain(import.meta.url, {
  name: 'dns',
  blocks: { nodeNetwork: '127.0.251.0/24', podNetwork: '127.95.0.0/16', serviceNetwork: '127.94.0.0/16', loadBalancerPool: '127.115.0.0/24' },
  async run(client, ctx, say) {
    const r = await dnsBench(client, ctx, { runId: Date.now().toString(36), say });
    return ['| Figure | Value | Baseline (same run) | Added |', '| --- | --- | --- | --- |', ...dnsRows(r)];
  },
});
