/** One real nats-server per test file: own random port and store dir, stopped at teardown. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { startNatsServer, type NatsServerHandle } from '../../nodes/shared/nats-server.js';

export interface TestNats {
  server: NatsServerHandle;
  url: string;
  dir: string;
  connect(): Promise<NatsConnection>;
  stop(): Promise<void>;
}

export async function startTestNats(): Promise<TestNats> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubeact-test-nats-'));
  const server = await startNatsServer({ dir });
  const conns: NatsConnection[] = [];
  return {
    server,
    url: server.url,
    dir,
    async connect() {
      const nc = await connect({ servers: server.url, name: 'test' });
      conns.push(nc);
      return nc;
    },
    async stop() {
      await Promise.all(conns.map((nc) => nc.close().catch(() => {})));
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
