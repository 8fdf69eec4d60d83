/**
 * Entry of the heartbeat thread of a simulated-nodes host (heartbeat-host.ts starts it): the
 * Lease renewals and Node status refreshes of every node of the host, on one staggered ticker,
 * over the thread's own NATS connection. Its event loop runs nothing else, so pod work on the
 * host's main thread (GC, thousands of pods) does not make renewals late: in the second
 * 100,000-pod attempt a host 82–99% busy renewed late and lost 904 nodes to the node-lifecycle
 * controller before any Lease request had failed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ApiClient } from '../../protocol/client.js';
import { connectNats } from '../shared/connect.js';
import { createLogger } from '../shared/logger.js';
import { StaggeredTicker } from '../shared/staggered-ticker.js';
import { LatenessWindow, logLateness } from './heartbeat-lateness.js';
import { Heartbeat, type NodeConfig } from './node-status.js';

export interface HeartbeatThreadData {
  natsUrl: string;
  heartbeatMs: number;
  /** How often the lateness line is logged, ms. */
  latenessLogMs: number;
}

/** From the host's main thread. */
export type ToHeartbeatThread = { type: 'add'; config: NodeConfig } | { type: 'remove'; name: string } | { type: 'stop' };
/** To the host's main thread. */
export type FromHeartbeatThread = { type: 'ready' } | { type: 'stopped' };

const data = workerData as HeartbeatThreadData;
const port = parentPort!;
const log = createLogger('simulated-heartbeats', {});
const nc = await connectNats(data.natsUrl, 'kubeact-simulated-heartbeats', log);
const client = new ApiClient(nc);
const lateness = new LatenessWindow();
const stopLog = logLateness(lateness, log, data.latenessLogMs);
const ticker = new StaggeredTicker({
  periodMs: data.heartbeatMs,
  onLate: (ms) => lateness.record(ms),
  onError: (e) => log.warn({ err: (e as Error).message }, 'heartbeat failed'),
});
const beating = new Map<string, Heartbeat>();

port.on('message', (msg: ToHeartbeatThread) => {
  if (msg.type === 'add') {
    beating.get(msg.config.name)?.stop();
    const hb = new Heartbeat(client, msg.config, log.child({ node: msg.config.name }), ticker);
    beating.set(msg.config.name, hb);
    hb.start();
  } else if (msg.type === 'remove') {
    beating.get(msg.name)?.stop();
    beating.delete(msg.name);
  } else if (msg.type === 'stop') {
    for (const hb of beating.values()) hb.stop();
    beating.clear();
    ticker.stop();
    stopLog();
    void nc.drain().catch(() => {}).finally(() => {
      port.postMessage({ type: 'stopped' } satisfies FromHeartbeatThread);
      port.close();
    });
  }
});
port.postMessage({ type: 'ready' } satisfies FromHeartbeatThread);
