#!/usr/bin/env node
/**
 * A process hosting many simulated nodes (see simulated-nodes.ts):
 *   node dist/nodes/worker/simulated-main.js --nats URL --nodes 1000 [--name-prefix sim-node-]
 *     [--node-network 127.124.0.0/16 --pod-network 127.128.0.0/10 --pod-prefix 24]
 *     [--cpu 4 --memory 8Gi --max-pods 110 --heartbeat-ms 10000 --status-every 30 --resync-ms 300000 --metrics-ms 5000]
 *     [--start-delay-ms 0 --failure-rate 0 --run-ms N --usage-cpu-millis M --usage-memory-bytes B]
 *     [--status-coalesce-ms 100] [--heartbeat-thread true|false] [--status-writes-inflight 200] [--api-timeout-ms 5000]
 *     [--event-slice-ms 50]
 * Leases are renewed from a worker thread with its own NATS connection unless
 * `--heartbeat-thread false` (then on the main thread, among the pods' work). At most
 * `--status-writes-inflight` pod status writes of all the nodes are in flight at once (0: no bound).
 * Pod watch events are handled in slices of `--event-slice-ms` with the NATS socket read in
 * between (0: in the NATS callbacks; a burst then left nats-server holding the backlog until it
 * dropped the host).
 */
import './plain-strings.js'; // first: before msgpackr loads
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../protocol/request-deadline.js';
import { daemonArgs } from '../shared/args.js';
import { connectNats, onShutdown } from '../shared/connect.js';
import { createLogger } from '../shared/logger.js';
import { logEventLoopStalls } from '../shared/event-loop-stalls.js';
import { DEFAULT_SIM_EVENT_SLICE_MS, DEFAULT_SIM_HEARTBEAT_MS, DEFAULT_SIM_NODE_NETWORK, DEFAULT_SIM_POD_NETWORK, DEFAULT_SIM_RESYNC_MS, DEFAULT_SIM_STATUS_EVERY, DEFAULT_SIM_STATUS_WRITES_INFLIGHT, SimulatedNodes } from './simulated-nodes.js';

const args = daemonArgs({
  nats: { type: 'string', default: process.env.KUBEACT_NATS_URL ?? 'nats://127.0.0.1:4222' },
  nodes: { type: 'string', default: '10' },
  'name-prefix': { type: 'string', default: 'sim-node-' },
  first: { type: 'string', default: '1' },
  'node-network': { type: 'string', default: DEFAULT_SIM_NODE_NETWORK },
  'pod-network': { type: 'string', default: DEFAULT_SIM_POD_NETWORK },
  'pod-prefix': { type: 'string', default: '24' },
  cpu: { type: 'string', default: '4' },
  memory: { type: 'string', default: '8Gi' },
  'max-pods': { type: 'string', default: '110' },
  'heartbeat-ms': { type: 'string', default: String(DEFAULT_SIM_HEARTBEAT_MS) },
  'status-every': { type: 'string', default: String(DEFAULT_SIM_STATUS_EVERY) },
  'metrics-ms': { type: 'string', default: '5000' },
  'resync-ms': { type: 'string', default: String(DEFAULT_SIM_RESYNC_MS) },
  'start-delay-ms': { type: 'string', default: '0' },
  'failure-rate': { type: 'string', default: '0' },
  'run-ms': { type: 'string' },
  'usage-cpu-millis': { type: 'string' },
  'usage-memory-bytes': { type: 'string' },
  'backoff-initial-ms': { type: 'string', default: '10000' },
  'backoff-max-ms': { type: 'string', default: '300000' },
  'status-coalesce-ms': { type: 'string', default: '100' },
  'heartbeat-thread': { type: 'string', default: 'true' },
  'status-writes-inflight': { type: 'string', default: String(DEFAULT_SIM_STATUS_WRITES_INFLIGHT) },
  'api-timeout-ms': { type: 'string', default: String(DEFAULT_REQUEST_TIMEOUT_MS) },
  'event-slice-ms': { type: 'string', default: String(DEFAULT_SIM_EVENT_SLICE_MS) },
});

const SHUTDOWN_MS = 3000;

// Thousands of pod actors: per-pod info lines would cost more than the pods.
const log = createLogger('simulated-nodes', {});
if (!process.env.KUBEACT_LOG_LEVEL) log.level = 'warn';
// Its own logger: the lateness lines are info (data the scale benchmark reads), one per 5 s.
const heartbeatLog = createLogger('simulated-heartbeats', {});

function num(name: keyof typeof args): number {
  const v = Number(args[name]);
  if (!Number.isFinite(v)) {
    log.fatal({ flag: name, value: args[name] }, `--${String(name)} must be a number`);
    process.exit(2);
  }
  return v;
}

function wholeNumber(name: keyof typeof args): number {
  const v = num(name);
  if (!Number.isInteger(v) || v < 0) {
    log.fatal({ flag: name, value: args[name] }, `--${String(name)} must be a whole number ≥ 0`);
    process.exit(2);
  }
  return v;
}

function threadFlag(): boolean {
  const v = args['heartbeat-thread'];
  if (v !== 'true' && v !== 'false') {
    log.fatal({ flag: 'heartbeat-thread', value: v }, '--heartbeat-thread must be true or false');
    process.exit(2);
  }
  return v === 'true';
}

async function main(): Promise<void> {
  const nc = await connectNats(args.nats as string, 'kubeact-simulated-nodes', log);
  const cpu = args['usage-cpu-millis'] === undefined ? undefined : num('usage-cpu-millis');
  const mem = args['usage-memory-bytes'] === undefined ? undefined : num('usage-memory-bytes');
  const hosts = new SimulatedNodes({
    nc,
    logger: log,
    count: num('nodes'),
    namePrefix: args['name-prefix'] as string,
    first: num('first'),
    nodeNetwork: args['node-network'] as string,
    podNetwork: args['pod-network'] as string,
    podPrefix: num('pod-prefix'),
    cpu: args.cpu as string,
    memory: args.memory as string,
    maxPods: num('max-pods'),
    heartbeatMs: num('heartbeat-ms'),
    statusEvery: num('status-every'),
    resyncMs: num('resync-ms'),
    metricsMs: num('metrics-ms'),
    heartbeatThreadNats: threadFlag() ? (args.nats as string) : undefined,
    latenessLogger: heartbeatLog,
    statusWritesInflight: wholeNumber('status-writes-inflight'),
    apiTimeoutMs: Math.max(1, wholeNumber('api-timeout-ms')),
    eventSliceMs: num('event-slice-ms'),
    tuning: { backoffInitialMs: num('backoff-initial-ms'), backoffMaxMs: num('backoff-max-ms'), statusCoalesceMs: num('status-coalesce-ms') },
    runtime: {
      startDelayMs: num('start-delay-ms'),
      failureRate: num('failure-rate'),
      runMs: args['run-ms'] === undefined ? undefined : num('run-ms'),
      usage:
        cpu === undefined && mem === undefined
          ? undefined
          : (c) => ({ cpuMillis: cpu ?? c.requests?.cpuMillis ?? 10, memoryBytes: mem ?? c.requests?.memoryBytes ?? 16 * 2 ** 20 }),
    },
  });
  // Nothing of a simulated node outlives it, so stopping never waits long on a control plane
  // that no longer answers (Events still queued, a drain): `down` then needs no SIGKILL.
  onShutdown(async () => {
    const giveUp = new Promise<void>((r) => setTimeout(r, SHUTDOWN_MS).unref());
    await Promise.race([hosts.stop().then(() => nc.drain()), giveUp]);
  }, log);
  await hosts.start();
  log.warn({ nodes: hosts.kubelets.length }, 'simulated nodes ready');
  // The host's own stalls, beside the heartbeat lateness lines (info: data the benchmarks read).
  logEventLoopStalls(heartbeatLog, 5000, () => ({ podEventsQueuedMax: hosts.podEvents.takeMaxWaiting() }));
}

main().catch((e) => {
  log.fatal({ err: e }, 'simulated nodes failed to start');
  process.exit(1);
});
