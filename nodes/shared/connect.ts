/** NATS connections of kubeact processes: reconnect forever, name themselves, log state changes. */
import { connect, type NatsConnection } from 'nats';
import type { Logger } from './logger.js';
import { coalesceWrites } from './nats-writes.js';
import { cheapRequestEnd } from './nats-requests.js';

export async function connectNats(url: string, name: string, log?: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers: url,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 5000,
    waitOnFirstConnect: true,
    // nats.js would capture two stacks per request (`new Error()` in case it times out): 5–6% of
    // the API server's CPU. A timed-out ApiClient call loses nothing it needs: its ApiError names
    // the subject and the timeout, and its own stack still shows the awaiting callers.
    noAsyncTraces: true,
  });
  if (!coalesceWrites(nc)) log?.warn('nats.js internals changed: socket writes are not coalesced');
  if (!cheapRequestEnd()) log?.warn('nats.js internals changed: each answered request still builds an error');
  if (log) {
    (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect' || s.type === 'reconnect') log.warn({ nats: s.type, server: s.data }, `nats ${s.type}`);
      }
    })().catch(() => {});
  }
  return nc;
}

/** Runs `stop` once on SIGTERM/SIGINT, then exits; a second signal exits at once. */
export function onShutdown(stop: () => Promise<void>, log?: Logger): void {
  let stopping = false;
  const handler = (sig: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    log?.info({ signal: sig }, 'shutting down');
    stop()
      .catch((e) => log?.error({ err: e }, 'error while stopping'))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
