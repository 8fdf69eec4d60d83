/**
 * Live heap per pod in the control plane (issue 9): the control plane's parts (API server,
 * scheduler, controller-manager — as nodes/controlplane/main.ts assembles them) run in this
 * process against a real nats-server; a second connection loads N Running pods, bound to
 * simulated Node objects, each with its 4 Events (Scheduled, Pulled, Created, Started) recorded
 * by the real EventRecorder. Full GCs before and after give the live bytes per pod; a hold
 * window after that measures the garbage the informers' resyncs make.
 *
 *   node --expose-gc dist/bench/memory-per-pod.js [--pods 5000] [--nodes 100] [--hold-s 35] [--resync-ms 30000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { connect } from 'nats';
import { ApiClient } from '../protocol/client.js';
import { decode, encode } from '../protocol/codec.js';
import type { KubeObject } from '../protocol/objects.js';
import { ApiServer } from '../nodes/apiserver/server.js';
import { ControllerManager } from '../nodes/controllers/manager.js';
import { localSources } from '../nodes/controlplane/local-sources.js';
import { SchedulerHost } from '../nodes/scheduler/host.js';
import { EventRecorder } from '../nodes/shared/events.js';
import { silentLogger } from '../nodes/shared/logger.js';
import { startNatsServer } from '../nodes/shared/nats-server.js';

const { values: args } = parseArgs({
  options: {
    pods: { type: 'string', default: '5000' },
    nodes: { type: 'string', default: '100' },
    'hold-s': { type: 'string', default: '35' },
    'resync-ms': { type: 'string', default: '30000' },
    // Leave parts out to see what each holds: `--without scheduler,controllers` (`local-informers`: informers over NATS; `packed-events`: Events decoded in the cache).
    without: { type: 'string', default: '' },
  },
});
const PODS = Number(args.pods);
const NODES = Number(args.nodes);
const HOLD_S = Number(args['hold-s']);
const RESYNC_MS = Number(args['resync-ms']);
const WITHOUT = new Set(String(args.without).split(',').filter(Boolean));

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with node --expose-gc');
  process.exit(2);
}

function liveHeap(): number {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage().heapUsed;
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function pool<T>(items: T[], inFlight: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

function nodeObject(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubeact.io/simulated': 'true' } },
    status: {
      capacity: { cpu: '64', memory: '256Gi', pods: '1000' },
      allocatable: { cpu: '64', memory: '256Gi', pods: '1000' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }],
    },
  } as KubeObject;
}

/** A Running pod's status as the kubelet reports it (actors/pod/status.ts shape). */
function runningStatus(i: number, nodeIndex: number): Record<string, unknown> {
  const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: t });
  const ip = `127.${128 + (nodeIndex >> 8)}.${nodeIndex & 255}.${(i % 250) + 2}`;
  return {
    phase: 'Running',
    conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
    hostIP: `127.124.${nodeIndex >> 8}.${nodeIndex & 255}`,
    hostIPs: [{ ip: `127.124.${nodeIndex >> 8}.${nodeIndex & 255}` }],
    podIP: ip,
    podIPs: [{ ip }],
    startTime: t,
    qosClass: 'Burstable',
    containerStatuses: [
      {
        name: 'main',
        state: { running: { startedAt: t } },
        lastState: {},
        ready: true,
        restartCount: 0,
        image: 'registry.k8s.io/pause:3.10',
        imageID: 'registry.k8s.io/pause:3.10',
        containerID: `simulated://${(i * 2654435761).toString(16).padStart(12, '0')}`,
        started: true,
      },
    ],
  };
}

/** Creates the pods (bound, then Running) and their Events from a connection of its own, closed after. */
async function load(url: string, nodeNames: string[]): Promise<void> {
  const lc = await connect({ servers: url, name: 'loader' });
  const loader = new ApiClient(lc, { timeoutMs: 30_000 });
  const scheduled = new EventRecorder(loader, { component: 'default-scheduler' });
  const kubelets = new Map(nodeNames.map((n) => [n, new EventRecorder(loader, { component: 'kubelet', host: n })]));
  const indexes = Array.from({ length: PODS }, (_, i) => i);
  await pool(indexes, 100, async (i) => {
    const nodeIndex = i % NODES;
    const nodeName = nodeNames[nodeIndex];
    const name = `hold-${i}`;
    const pod = await loader.create<KubeObject>({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default', labels: { app: 'hold', bench: 'memory' } },
      spec: { nodeName, terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
    } as KubeObject);
    scheduled.record(pod, 'Normal', 'Scheduled', `Successfully assigned default/${name} to ${nodeName}`);
    const kubelet = kubelets.get(nodeName)!;
    kubelet.record(pod, 'Normal', 'Pulled', 'Container image "registry.k8s.io/pause:3.10" already present on machine');
    kubelet.record(pod, 'Normal', 'Created', 'Created container main');
    kubelet.record(pod, 'Normal', 'Started', 'Started container main');
    await loader.call('updateStatus', 'Pod', { object: { ...pod, status: runningStatus(i, nodeIndex) } });
  });
  await scheduled.flush();
  await Promise.all([...kubelets.values()].map((k) => k.flush()));
  await lc.close();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubeact-mem-'));
  const nats = await startNatsServer({ dir });
  const log = silentLogger();
  try {
    const nc = await connect({ servers: nats.url, name: 'control-plane' });
    const api = new ApiServer({ nc, logger: log, packEvents: !WITHOUT.has('packed-events') });
    await api.start();
    const client = new ApiClient(nc);
    const scheduler = WITHOUT.has('scheduler') ? undefined : new SchedulerHost({ client, logger: log });
    await scheduler?.start();
    const controllers = WITHOUT.has('controllers') ? undefined : new ControllerManager({ nc, client, logger: log, nodeMonitorGraceMs: 3_600_000, podEvictionTolerationMs: 3_600_000, resyncMs: RESYNC_MS, sources: WITHOUT.has('local-informers') ? undefined : localSources(api) });
    await controllers?.start();
    const pods = api.stores.get('Pod')!;
    const running = () => (controllers ? controllers.pods.list((p) => p.status?.phase === 'Running').length : [...pods.all()].filter((p) => p.status?.phase === 'Running').length);

    const nodeNames = Array.from({ length: NODES }, (_, i) => `sim-node-${i + 1}`);
    const lc = await connect({ servers: nats.url, name: 'loader' });
    await pool(nodeNames, 20, (n) => new ApiClient(lc).create(nodeObject(n)));
    await lc.close();
    await until('nodes in the cache', () => api.stores.get('Node')!.size === NODES && (!controllers || controllers.nodes.list().length === NODES), 60_000);
    const before = liveHeap();
    const eventsBefore = api.stores.get('Event')!.size;

    const started = Date.now();
    await load(nats.url, nodeNames);
    const events = api.stores.get('Event')!;
    await until('Running pods in the informer', () => running() === PODS, 120_000);
    await until('events in the API cache', () => events.size - eventsBefore >= 4 * PODS, 120_000);
    const loadS = (Date.now() - started) / 1000;
    const after = liveHeap();
    const perPod = (after - before) / PODS;

    let podBytes = 0;
    for (const e of api.stores.get('Pod')!.entries()) podBytes += e.bytes;
    let eventBytes = 0;
    for (const e of events.entries()) eventBytes += e.bytes;

    // What `kubeact describe pod` asks: the pod's Events by field selector (every Event is looked at).
    const reader = new ApiClient(nc, { timeoutMs: 30_000 });
    const listMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const found = await reader.list('Event', { namespace: 'default', fieldSelector: `involvedObject.name=hold-${i * 7}` });
      listMs.push(performance.now() - t0);
      if (found.items.length !== 4) throw new Error(`expected 4 Events of hold-${i * 7}, got ${found.items.length}`);
    }
    listMs.sort((a, b) => a - b);

    // Hold: the garbage (allocated then freed) and CPU the idle control plane makes per resync period.
    const profiler = new v8.GCProfiler();
    profiler.start();
    const cpu0 = process.cpuUsage();
    const heap0 = liveHeap();
    await new Promise((r) => setTimeout(r, HOLD_S * 1000));
    const heap1 = process.memoryUsage().heapUsed;
    const cpu = process.cpuUsage(cpu0);
    const stats = profiler.stop();
    let freed = 0;
    for (const s of stats.statistics) freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize;
    const garbage = freed + (heap1 - heap0);

    // What one decoded copy weighs on the heap: 10,000 decodes of a stored pod and Event held at once.
    const copyBytes = (bytes: Uint8Array) => {
      const h0 = liveHeap();
      const held = Array.from({ length: 10_000 }, () => decode(bytes));
      const h1 = liveHeap();
      return (h1 - h0) / held.length;
    };
    const onePod = [...pods.entries()][0];
    const oneEvent = [...events.entries()][0];
    const podCopy = copyBytes(encode(onePod.obj));
    const eventCopy = copyBytes(encode(oneEvent.obj));

    const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
    const kb = (b: number) => `${(b / 1000).toFixed(2)} KB`;
    console.log(`pods ${PODS} on ${NODES} nodes${WITHOUT.size ? ` (without ${[...WITHOUT].join(', ')})` : ''}, ${events.size - eventsBefore} Events; loaded in ${loadS.toFixed(1)} s; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')}`);
    console.log(`live heap: before ${mib(before)}, after ${mib(after)} → ${kb(perPod)} per pod (pod + its Events, every copy)`);
    console.log(`stored msgpack: pod ${kb(podBytes / PODS)}, Events ${kb(eventBytes / events.size)} each; one decoded copy on the heap: pod ${kb(podCopy)}, Event ${kb(eventCopy)}`);
    console.log(`a pod's Events by field selector among ${events.size}: p50 ${listMs[10].toFixed(1)} ms, max ${listMs[19].toFixed(1)} ms`);
    console.log(`projected live heap at 100,000 pods: ${mib(before + perPod * 100_000)}`);
    console.log(`hold ${HOLD_S} s (resync every ${RESYNC_MS / 1000} s): garbage ${mib(garbage)} (${kb(garbage / PODS)} per pod), ${stats.statistics.length} GCs, CPU ${((cpu.user + cpu.system) / 10_000 / HOLD_S).toFixed(1)}% of a core`);
    console.log(`rss ${mib(process.memoryUsage().rss)}`);

    await controllers?.stop();
    await scheduler?.stop();
    await api.stop();
    await nc.close();
  } finally {
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
