/**
 * The main-thread side of the heartbeat thread (heartbeat-thread.ts): kubelets of a
 * simulated-nodes host hand it their node (`add`) instead of renewing their Lease themselves.
 * A host whose heartbeat thread dies exits: its nodes would all go NotReady while it carried on.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../shared/logger.js';
import type { FromHeartbeatThread, HeartbeatThreadData, ToHeartbeatThread } from './heartbeat-thread.js';
import type { NodeConfig } from './node-status.js';

/** Where kubelets hand their heartbeat (kubelet.ts `heartbeats`). */
export interface HeartbeatSink {
  /** Starts renewing the node's Lease; returns the stop. */
  add(config: NodeConfig): () => void;
}

export class HeartbeatThread implements HeartbeatSink {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private stopping = false;
  private stopped?: () => void;

  constructor(natsUrl: string, heartbeatMs: number, private readonly log: Logger, latenessLogMs = 5000) {
    const data: HeartbeatThreadData = { natsUrl, heartbeatMs, latenessLogMs };
    this.worker = new Worker(new URL('./heartbeat-thread.js', import.meta.url), { workerData: data });
    this.ready = new Promise((resolve, reject) => {
      this.worker.on('message', (msg: FromHeartbeatThread) => {
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'stopped') this.stopped?.();
      });
      this.worker.once('error', (err) => {
        reject(err);
        if (this.stopping) return;
        this.log.fatal({ err }, 'heartbeat thread failed: the nodes of this host cannot stay Ready');
        process.exit(1);
      });
    });
    this.ready.catch(() => {});
  }

  /** Resolves once the thread is connected to NATS. */
  start(): Promise<void> {
    return this.ready;
  }

  add(config: NodeConfig): () => void {
    this.post({ type: 'add', config });
    return () => this.post({ type: 'remove', name: config.name });
  }

  /** Stops every heartbeat and the thread (its connection drained). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const done = new Promise<void>((r) => (this.stopped = r));
    this.post({ type: 'stop' });
    await Promise.race([done, new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.worker.terminate();
  }

  private post(msg: ToHeartbeatThread): void {
    if (this.stopping && msg.type !== 'stop') return;
    this.worker.postMessage(msg);
  }
}
