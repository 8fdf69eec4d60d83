/**
 * Live heap per pod of the simulated-nodes host (`node --expose-gc dist/bench/scale/sim-heap.js
 * [pods] [nodes]`): a control plane (its own processes), and the simulated nodes in this
 * process; pods are created already bound (spec.nodeName, no scheduler), and once every one is
 * Running in the store the heap is measured after full GCs, against the same heap before the
 * pods. Not part of `npm run bench`: a probe for the host's memory per pod (issue 9).
 */
// As the simulated-nodes host (simulated-main.ts): before msgpackr loads.
import '../../nodes/worker/plain-strings.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { connectNats } from '../../nodes/shared/connect.js';
import { ApiClient } from '../../protocol/client.js';
import type { KubeObject, Pod } from '../../protocol/objects.js';
import { down } from '../../nodes/launcher/down.js';
import { up } from '../../nodes/launcher/up.js';
import { createLogger } from '../../nodes/shared/logger.js';
import { SimulatedNodes } from '../../nodes/worker/simulated-nodes.js';
import { sleep } from '../pace.js';
import { ScalePods } from './pods.js';

const PODS = Number(process.argv[2] ?? 5000);
const NODES = Number(process.argv[3] ?? 100);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

async function untilAllRunning(client: ApiClient, hosts: SimulatedNodes, label: string): Promise<void> {
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    const list = await client.list<KubeObject>('Pod', { namespace: 'default', labelSelector: `bench=${label}` });
    const running = list.items.filter((p) => p.status?.phase === 'Running').length;
    if (running === PODS && hosts.podCount === PODS) break;
    if (Date.now() > deadline) throw new Error(`only ${running} of ${PODS} pods Running`);
    if (process.env.KUBEACT_DEBUG) {
      const missing = new Map<string, number>();
      for (const p of list.items) if (p.status?.phase !== 'Running') missing.set((p as Pod).spec!.nodeName!, (missing.get((p as Pod).spec!.nodeName!) ?? 0) + 1);
      say(`running in the store ${running}, pod workers ${hosts.podCount}; not running by node ${JSON.stringify([...missing].slice(0, 10))} phases ${JSON.stringify([...new Set(list.items.map((p) => p.status?.phase))])}`);
    }
    await sleep(2000);
  }
}

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

const home = mkdtempSync(path.join(os.tmpdir(), 'kubeact-simheap-home-'));
const say = (l: string) => console.log(l.trim());
let hosts: SimulatedNodes | undefined;
// Interrupted (Ctrl-C, timeout -s INT): the daemons it started go too.
process.once('SIGINT', () => void down({ home, say }).finally(() => process.exit(130)));
try {
  // The simulated nodes renew their Leases every 10 s: the 40 s grace `up` gives them.
  const ctx = await up({ nodes: 0, home, serviceNetwork: '127.98.0.0/16', dnsListen: 'off', timeoutMs: 60_000, controlPlaneArgs: ['--node-monitor-grace-ms', '40000'], say });
  // As simulated-main.ts connects (coalesced socket writes, no stack per request): a profile of this process is the host's.
  const nc = await connectNats(ctx.natsUrl, 'kubeact-simheap');
  const client = new ApiClient(nc, { timeoutMs: 60_000 });
  const logger = createLogger('simulated-nodes', {});
  logger.level = 'warn';
  // KUBEACT_SIM_EVENT_SLICE_MS: as simulated-main's --event-slice-ms (0: events handled in the NATS callbacks).
  const eventSliceMs = process.env.KUBEACT_SIM_EVENT_SLICE_MS === undefined ? undefined : Number(process.env.KUBEACT_SIM_EVENT_SLICE_MS);
  hosts = new SimulatedNodes({ nc, logger, count: NODES, maxPods: Math.ceil(PODS / NODES) + 10, eventSliceMs });
  await hosts.start();
  await sleep(2000);
  const heap0 = heapAfterGc();
  const rss0 = process.memoryUsage().rss;
  const label = Date.now().toString(36);
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  let next = 0;
  await Promise.all(Array.from({ length: 100 }, async () => {
    while (next < PODS) {
      const i = next++;
      const pod = ScalePods.manifest(`heap-${label}-${i}`, label) as Pod;
      pod.spec!.nodeName = `sim-node-${(i % NODES) + 1}`;
      await client.create(pod as KubeObject);
    }
  }));
  say(`created ${PODS} pods in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  // Every pod Running in the store (its status written), polled with a deadline; in a function
  // of its own, so the last list of every pod is not on the stack when the heap is measured.
  await untilAllRunning(client, hosts, label);
  const cpu = process.cpuUsage(cpu0);
  // This process's CPU from the first create to all Running: the host's pods, plus the creates it sends.
  say(`all Running after ${((Date.now() - t0) / 1000).toFixed(0)} s; CPU ${((cpu.user + cpu.system) / 1000 / PODS).toFixed(2)} ms per pod`);
  await sleep(3000);
  const heap1 = heapAfterGc();
  const rss1 = process.memoryUsage().rss;
  say(`live heap per pod: ${((heap1 - heap0) / PODS).toFixed(0)} bytes (${PODS} pods on ${NODES} nodes; heap ${(heap0 / 2 ** 20).toFixed(0)} → ${(heap1 / 2 ** 20).toFixed(0)} MiB); RSS ${(rss0 / 2 ** 20).toFixed(0)} → ${(rss1 / 2 ** 20).toFixed(0)} MiB; load ${os.loadavg()[0].toFixed(1)}`);
  if (process.env.KUBEACT_HEAP_SNAPSHOT) say(`heap snapshot: ${writeHeapSnapshot(process.env.KUBEACT_HEAP_SNAPSHOT)}`);
  await nc.close();
} finally {
  await hosts?.stop().catch(() => {});
  await down({ home, say }).catch(() => {});
  if (process.env.KUBEACT_DEBUG) say(`home kept: ${home}`);
  else rmSync(home, { recursive: true, force: true });
}
process.exit(0);
