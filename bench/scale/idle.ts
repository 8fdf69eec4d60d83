/**
 * What holding costs (`node dist/bench/scale/idle.js [nodes] [seconds] [pods] [--simulated-arg ...]`):
 * CPU of the control plane and of the simulated-nodes host over an idle window once every node
 * is Ready and `pods` pods (default 0) are Running. The pods are created already bound
 * (spec.nodeName, spread evenly), so a hold of tens of thousands fills without waiting on the
 * scheduler. Not part of `npm run bench`: a probe for comparing settings; with
 * KUBEACT_CPU_PROFILE_DIR the daemons' profiles cover the run (the idle window is its last
 * `seconds` before the stop, printed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'nats';
import { ApiClient } from '../../protocol/client.js';
import { down } from '../../nodes/launcher/down.js';
import { up } from '../../nodes/launcher/up.js';
import { now, sleep } from '../pace.js';
import { cpuMs, rssBytes } from './procfs.js';
import { ScalePods } from './pods.js';

const args = process.argv.slice(2);
const firstFlag = args.findIndex((a) => a.startsWith('--'));
const positional = firstFlag < 0 ? args : args.slice(0, firstFlag);
const simulatedArgs = firstFlag < 0 ? [] : args.slice(firstFlag);
const NODES = Number(positional[0] ?? 1000);
const SECONDS = Number(positional[1] ?? 30);
const PODS = Number(positional[2] ?? 0);
const home = mkdtempSync(path.join(os.tmpdir(), 'kubeact-idle-home-'));
const say = (l: string) => console.log(l.trim());
const t0 = now();
try {
  const ctx = await up({
    nodes: 0,
    simulatedNodes: NODES,
    simulatedArgs,
    home,
    serviceNetwork: '127.98.0.0/16',
    dnsListen: 'off',
    maxPods: Math.max(110, Math.ceil((PODS * 2) / NODES)),
    timeoutMs: 60_000 + NODES * 100,
    // e.g. KUBEACT_SCALE_CP_ARGS="--pod-eviction-toleration-ms 3600000" on a starved machine
    controlPlaneArgs: (process.env.KUBEACT_SCALE_CP_ARGS ?? '').split(' ').filter(Boolean),
    say,
  });
  const pid = (role: string) => ctx.processes.find((p) => p.role === role)!.pid;
  const [cp, sim] = [pid('control-plane'), pid('simulated-nodes')];
  if (PODS > 0) {
    const nc = await connect({ servers: ctx.natsUrl, name: 'kubeact-idle-probe' });
    const client = new ApiClient(nc, { timeoutMs: 60_000 });
    const label = Date.now().toString(36);
    const pods = new ScalePods(client, label);
    await pods.start();
    let next = 0;
    const tFill = now();
    await Promise.all(Array.from({ length: 100 }, async () => {
      while (next < PODS) {
        const i = next++;
        const pod = ScalePods.manifest(`hold-${label}-${i}`, label);
        pod.spec!.nodeName = `sim-node-${(i % NODES) + 1}`;
        await client.create(pod);
      }
    }));
    await pods.until(() => pods.reached.running >= PODS, 30 * 60_000, `${PODS} pods Running`);
    say(`${PODS} pods Running in ${((now() - tFill) / 1000).toFixed(0)} s`);
    pods.stop();
    await nc.close();
  }
  await sleep(10_000); // registration's (and the fill's) tail settles
  const [c0, s0] = [cpuMs(cp), cpuMs(sim)];
  const from = (now() - t0) / 1000;
  await sleep(SECONDS * 1000);
  const pct = (a: number, b: number) => (((b - a) / (SECONDS * 1000)) * 100).toFixed(1);
  console.log(`idle ${NODES} nodes, ${PODS} pods, ${SECONDS} s (from ${from.toFixed(0)} s), simulated args [${simulatedArgs.join(' ')}]: control plane ${pct(c0, cpuMs(cp))}% of a core (RSS ${(rssBytes(cp) / 2 ** 20).toFixed(0)} MiB), simulated nodes ${pct(s0, cpuMs(sim))}% (RSS ${(rssBytes(sim) / 2 ** 20).toFixed(0)} MiB), load ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
} finally {
  await down({ home, say }).catch(() => {});
  rmSync(home, { recursive: true, force: true });
}
