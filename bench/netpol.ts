/**
 * What NetworkPolicy enforcement costs kube-proxy per new connection, beside a fresh loopback
 * TCP connect measured in the same run: the decision itself (actors/netpol, 50 policies over 10
 * namespaces) and the /proc lookup that finds which pod owns a client socket connecting from
 * 127.0.0.1 (hot: the owner was found before; cold: every process on the host is searched).
 * In-process, no cluster. Also runnable alone: `node dist/bench/netpol.js`.
 */
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Namespace } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { compilePolicies, decide, type Connection } from '../actors/netpol/index.js';
import { SocketOwners } from '../nodes/worker/proxy/socket-owner.js';
import { now } from './pace.js';
import { summarize, fmtMs, type Summary } from './stats.js';

export interface NetpolBenchResult {
  policies: number;
  decision: Summary;
  lookupHot: Summary;
  lookupCold: Summary;
  processes: number;
  connect: Summary;
}

const NAMESPACES = 10;
const POLICIES_PER_NAMESPACE = 5;
const DECISIONS = 20_000;
const LOOKUPS = 200;
const CONNECTS = 400;

function policySet() {
  const namespaces: Namespace[] = [];
  const policies: NetworkPolicy[] = [];
  for (let n = 0; n < NAMESPACES; n++) {
    namespaces.push({ metadata: { name: `ns-${n}`, labels: { team: `t${n % 3}` } } });
    for (let p = 0; p < POLICIES_PER_NAMESPACE; p++) {
      policies.push({
        metadata: { name: `p-${p}`, namespace: `ns-${n}` },
        spec: {
          podSelector: { matchLabels: { app: `app-${p}` } },
          policyTypes: ['Ingress', 'Egress'],
          ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }, { namespaceSelector: { matchLabels: { team: 't1' } } }], ports: [{ port: 8080 }, { port: 'http' }] }],
          egress: [{ to: [{ ipBlock: { cidr: '127.0.0.0/8', except: ['127.0.0.2/32'] } }, { podSelector: {} }] }],
        },
      });
    }
  }
  return compilePolicies(policies, namespaces);
}

function decisionSamples(): number[] {
  const set = policySet();
  const conns: Connection[] = [];
  for (let i = 0; i < 64; i++) {
    const ns = `ns-${i % NAMESPACES}`;
    conns.push({
      source: { ip: '127.64.0.5', pod: { namespace: `ns-${(i * 7) % NAMESPACES}`, name: 'c', labels: { role: i % 2 ? 'client' : 'other', app: `app-${i % 7}` } } },
      dest: { ip: '127.64.0.9', pod: { namespace: ns, name: 'd', labels: { app: `app-${i % POLICIES_PER_NAMESPACE}` }, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] } },
      port: i % 3 ? 8080 : 9090,
      protocol: 'TCP',
    });
  }
  // Batches of 100 decisions per sample: one decision is below the clock's useful resolution.
  const samples: number[] = [];
  let sink = 0;
  for (let b = 0; b < DECISIONS / 100; b++) {
    const t0 = now();
    for (let i = 0; i < 100; i++) if (decide(set, conns[(b * 100 + i) % conns.length]).allowed) sink++;
    samples.push((now() - t0) / 100);
  }
  if (sink < 0) console.log(sink);
  return samples;
}

async function listen(): Promise<net.Server> {
  const server = net.createServer((s) => s.on('error', () => {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function connectOnce(port: number): Promise<{ socket: net.Socket; ms: number }> {
  const t0 = now();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve({ socket, ms: now() - t0 }));
    socket.on('error', reject);
  });
}

export async function netpolBench(opts: { say?: (line: string) => void } = {}): Promise<NetpolBenchResult> {
  const say = opts.say ?? (() => {});
  say(`  decision: ${DECISIONS} connections against ${NAMESPACES * POLICIES_PER_NAMESPACE} policies`);
  const decision = summarize(decisionSamples());
  const server = await listen();
  const port = (server.address() as net.AddressInfo).port;
  try {
    say(`  fresh loopback connects: ${CONNECTS}`);
    const connects: number[] = [];
    for (let i = 0; i < CONNECTS; i++) {
      const { socket, ms } = await connectOnce(port);
      connects.push(ms);
      socket.destroy();
    }
    say(`  /proc owner lookups: ${LOOKUPS} hot, ${LOOKUPS / 4} cold`);
    const hot: number[] = [];
    const cold: number[] = [];
    const owners = new SocketOwners();
    let processes = 0;
    for (let i = 0; i < LOOKUPS + LOOKUPS / 4; i++) {
      const { socket } = await connectOnce(port);
      const client = { ip: socket.localAddress!, port: socket.localPort! };
      const target = { ip: '127.0.0.1', port };
      const fresh = i >= LOOKUPS ? new SocketOwners() : owners;
      const t0 = now();
      const pid = fresh.ownerPid('TCP', client, target);
      const ms = now() - t0;
      socket.destroy();
      if (pid !== String(process.pid)) throw new Error(`owner lookup found ${pid}, expected ${process.pid}`);
      (i >= LOOKUPS ? cold : hot).push(ms);
    }
    processes = (await import('node:fs')).readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length;
    return { policies: NAMESPACES * POLICIES_PER_NAMESPACE, decision, lookupHot: summarize(hot), lookupCold: summarize(cold), processes, connect: summarize(connects) };
  } finally {
    server.close();
  }
}

export const NETPOL_BENCH_DESCRIPTION = `- **NetworkPolicy** (in the benchmark process, no cluster): the decision kube-proxy makes per new
  connection (50 policies over 10 namespaces, 64 different connections, batches of 100) and the
  /proc lookup of a client socket's owning process (\`/proc/net/tcp\` → inode → \`/proc/*/fd\`), hot (the
  owner was found before) and cold (every process searched), each against a fresh loopback TCP
  connect measured in the same run.
`;

const us = (ms: number) => `${(ms * 1000).toFixed(ms < 0.01 ? 2 : 1)} µs`;

export function netpolRows(r: NetpolBenchResult | undefined): string[] {
  if (!r) return [];
  const row = (name: string, s: Summary) => `| ${name} | p50 ${us(s.p50)}, p99 ${us(s.p99)} | fresh loopback TCP connect p50 ${us(r.connect.p50)} | ${(s.p50 / r.connect.p50).toFixed(3)}× |`;
  return [
    row(`NetworkPolicy decision per connection (${r.policies} policies, in kube-proxy)`, r.decision),
    row('Source pod lookup via /proc, owner seen before (client from 127.0.0.1)', r.lookupHot),
    row(`Source pod lookup via /proc, cold (${r.processes} processes on the host)`, r.lookupCold),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await netpolBench({ say: console.log });
  console.log(['| Figure | Value | Baseline (same run) | Ratio |', '| --- | --- | --- | --- |', ...netpolRows(r)].join('\n'));
  console.log(`connect p99 ${fmtMs(r.connect.p99)}`);
}
