/** NATS connections of kubeact processes: reconnect forever, name themselves, log state changes. */
import { connect, type NatsConnection } from 'nats';
import type { Logger } from './logger.js';
import { coalesceWrites } from './nats-writes.js';

export async function connectNats(url: string, name: string, log?: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers: url,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    pingInterval: 5000,
    waitOnFirstConnect: true,
  });
  if (!coalesceWrites(nc)) log?.warn('nats.js internals changed: socket writes are not coalesced');
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
