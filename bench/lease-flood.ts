#!/usr/bin/env node
/**
 * `node dist/bench/lease-flood.js`: Lease renewal latency while a flood of pod creates hits the
 * API server, in three API priority modes of the API server process (bench/apiserver/host.ts):
 *   off   — every request in arrival order on one connection (kubeact before API priority);
 *   seats — workload requests through 400 seats, node-critical ones exempt, one connection;
 *   on    — seats, and node-critical requests (and the Lease store) on a connection of their own.
 * Per round: a fresh nats-server and API server, renewals of 20 node Leases one after another
 * while idle, then again while KUBEACT_LF_PODS creates (KUBEACT_LF_WINDOW in flight) are sent
 * by a process of their own (this file with `--flood`: a busy client loop must not delay the
 * renewals' replies here and pass for API server latency).
 * Figures: renewal p50/p99 idle and under the flood, their flood/idle ratio (machine noise
 * cancels within a round), creates/s. Modes alternate over KUBEACT_LF_ROUNDS rounds each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { connectNats } from '../nodes/shared/connect.js';
import { startNatsServer, stopChild, type NatsServerHandle } from '../nodes/shared/nats-server.js';
import { ApiClient } from '../protocol/client.js';
import { NODE_LEASE_NAMESPACE, nowMicroTime, type KubeObject } from '../protocol/objects.js';
import { startHost } from './apiserver/run.js';
import { machineInfo } from './report.js';
import { now } from './pace.js';
import { percentile } from './stats.js';

const PODS = Number(process.env.KUBEACT_LF_PODS ?? 8000);
const WINDOW = Number(process.env.KUBEACT_LF_WINDOW ?? 1000);
const ROUNDS = Number(process.env.KUBEACT_LF_ROUNDS ?? 2);
const IDLE_RENEWALS = 200;
const LEASES = 20;
const MODES = ['off', 'seats', 'on'] as const;
type Mode = (typeof MODES)[number];

interface Round {
  mode: Mode;
  idle: number[];
  flood: number[];
  createsPerS: number;
  load: string;
}

const lease = (i: number): KubeObject => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: `node-${i}`, namespace: NODE_LEASE_NAMESPACE },
  spec: { holderIdentity: `node-${i}`, leaseDurationSeconds: 40, renewTime: nowMicroTime() },
});

async function round(mode: Mode): Promise<Round> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubeact-bench-lf-'));
  let nats: NatsServerHandle | undefined;
  let host: ChildProcess | undefined;
  const conns: { close(): Promise<void> }[] = [];
  try {
    nats = await startNatsServer({ dir });
    host = await startHost(nats.url, [], [mode]);
    const kubeletNc = await connectNats(nats.url, 'bench-kubelets');
    conns.push(kubeletNc);
    const kubelets = new ApiClient(kubeletNc, { priority: 'node-critical', timeoutMs: 60_000 });
    const leases = await Promise.all(Array.from({ length: LEASES }, async (_, i) => (await kubelets.apply(lease(i))).object));
    let n = 0;
    const renew = async (into: number[]) => {
      const i = n++ % LEASES;
      const t0 = now();
      leases[i] = await kubelets.update({ ...leases[i], spec: { ...leases[i].spec, renewTime: nowMicroTime() } });
      into.push(now() - t0);
    };
    const idle: number[] = [];
    for (let k = 0; k < IDLE_RENEWALS; k++) await renew(idle);

    const flood: number[] = [];
    const flooder = spawn(process.execPath, [new URL(import.meta.url).pathname, '--flood', nats.url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const finished = new Promise<number>((resolve, reject) => {
      flooder.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = out.match(/^done ([\d.]+)$/m);
        if (m) resolve(Number(m[1]));
      });
      flooder.once('exit', (code) => reject(new Error(`the flood process exited with code ${code}: ${out.slice(-300)}`)));
    });
    while (!/^started$/m.test(out)) await new Promise((r) => setTimeout(r, 5));
    let flooding = true;
    void finished.finally(() => (flooding = false)).catch(() => {});
    while (flooding) await renew(flood);
    const createsPerS = await finished;
    return { mode, idle, flood, createsPerS, load: os.loadavg()[0].toFixed(1) };
  } finally {
    for (const c of conns) await c.close().catch(() => {});
    if (host) await stopChild(host).catch(() => {});
    await nats?.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (v: number) => (v < 10 ? v.toFixed(1) : v.toFixed(0));

async function main(): Promise<void> {
  console.log(`Lease renewals under a pod-create flood — ${machineInfo().cpu}, ${machineInfo().cores} cores, load ${machineInfo().load}; ${PODS} creates, ${WINDOW} in flight, ${LEASES} leases renewed one after another`);
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const mode of MODES) {
      const res = await round(mode);
      rounds.push(res);
      console.log(
        `${mode.padEnd(5)} idle p50/p99 ${ms(percentile(res.idle, 50))}/${ms(percentile(res.idle, 99))} ms; flood p50/p99 ${ms(percentile(res.flood, 50))}/${ms(percentile(res.flood, 99))} ms (${res.flood.length} renewals); ` +
          `ratio p50 ×${(percentile(res.flood, 50) / percentile(res.idle, 50)).toFixed(1)} p99 ×${(percentile(res.flood, 99) / percentile(res.idle, 99)).toFixed(1)}; ${res.createsPerS.toFixed(0)} creates/s; load ${res.load}`,
      );
    }
  }
  console.log('\n| mode | idle p50 / p99 ms | flood p50 / p99 ms | flood/idle p50 | flood/idle p99 | creates/s |');
  console.log('|---|---|---|---|---|---|');
  for (const mode of MODES) {
    const of = rounds.filter((r) => r.mode === mode);
    const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    const idle = of.flatMap((r) => r.idle);
    const flood = of.flatMap((r) => r.flood);
    const r50 = med(of.map((r) => percentile(r.flood, 50) / percentile(r.idle, 50)));
    const r99 = med(of.map((r) => percentile(r.flood, 99) / percentile(r.idle, 99)));
    console.log(`| ${mode} | ${ms(percentile(idle, 50))} / ${ms(percentile(idle, 99))} | ${ms(percentile(flood, 50))} / ${ms(percentile(flood, 99))} | ×${r50.toFixed(1)} | ×${r99.toFixed(1)} | ${med(of.map((r) => r.createsPerS)).toFixed(0)} |`);
  }
}

/** The flood process: every create from its own event loop; prints `started`, then `done <creates/s>`. */
async function floodMain(url: string): Promise<void> {
  const nc = await connectNats(url, 'bench-flood');
  const workload = new ApiClient(nc, { timeoutMs: 120_000 });
  let next = 0;
  const lane = async () => {
    while (next < PODS) {
      const i = next++;
      await workload.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    }
  };
  process.stdout.write('started\n');
  const started = now();
  await Promise.all(Array.from({ length: WINDOW }, lane));
  process.stdout.write(`done ${PODS / ((now() - started) / 1000)}\n`);
  await nc.close();
}

(process.argv[2] === '--flood' ? floodMain(process.argv[3]) : main()).catch((e) => {
  console.error(`lease-flood benchmark failed: ${(e as Error).stack}`);
  process.exitCode = 1;
});
