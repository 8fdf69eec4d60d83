/**
 * What 1,000 idle simulated nodes cost (`node dist/bench/scale/idle.js [nodes] [seconds] [--simulated-arg ...]`):
 * CPU of the control plane and of the simulated-nodes host over an idle window once every node
 * is Ready. Not part of `npm run bench`: a probe for comparing heartbeat and metrics settings.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { down } from '../../nodes/launcher/down.js';
import { up } from '../../nodes/launcher/up.js';
import { sleep } from '../pace.js';
import { cpuMs, rssBytes } from './procfs.js';

const [nodesArg, secondsArg, ...simulatedArgs] = process.argv.slice(2);
const NODES = Number(nodesArg ?? 1000);
const SECONDS = Number(secondsArg ?? 30);
const home = mkdtempSync(path.join(os.tmpdir(), 'kubeact-idle-home-'));
const say = (l: string) => console.log(l.trim());
try {
  const ctx = await up({
    nodes: 0,
    simulatedNodes: NODES,
    simulatedArgs,
    home,
    serviceNetwork: '127.98.0.0/16',
    dnsListen: 'off',
    timeoutMs: 60_000 + NODES * 100,
    say,
  });
  const pid = (role: string) => ctx.processes.find((p) => p.role === role)!.pid;
  const [cp, sim] = [pid('control-plane'), pid('simulated-nodes')];
  await sleep(10_000); // registration's tail settles
  const [c0, s0] = [cpuMs(cp), cpuMs(sim)];
  await sleep(SECONDS * 1000);
  const pct = (a: number, b: number) => (((b - a) / (SECONDS * 1000)) * 100).toFixed(1);
  console.log(`idle ${NODES} nodes, ${SECONDS} s, simulated args [${simulatedArgs.join(' ')}]: control plane ${pct(c0, cpuMs(cp))}% of a core (RSS ${(rssBytes(cp) / 2 ** 20).toFixed(0)} MiB), simulated nodes ${pct(s0, cpuMs(sim))}% (RSS ${(rssBytes(sim) / 2 ** 20).toFixed(0)} MiB), load ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')}`);
} finally {
  await down({ home, say }).catch(() => {});
  rmSync(home, { recursive: true, force: true });
}
