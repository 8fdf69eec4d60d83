/**
 * A real nats-server with a started API server on it and a client, for test files that exercise
 * the API server or talk to it without a whole cluster. stop() stops everything it started.
 */
import type { NatsConnection } from 'nats';
import { ApiServer } from '../../nodes/apiserver/server.js';
import { silentLogger } from '../../nodes/shared/logger.js';
import { ApiClient } from '../../protocol/client.js';
import { startTestNats, type TestNats } from './nats.js';

export interface TestApiServerOptions {
  /** ClusterIPs come from this block; give tests that open sockets on them a block of their own (blocks.ts). */
  serviceCidr?: string;
  /** Workload seats (`--max-requests-inflight`; default 400). */
  maxRequestsInflight?: number;
}

export interface TestApiServer {
  nats: TestNats;
  nc: NatsConnection;
  client: ApiClient;
  /** The running API server (a new one after restart()). */
  server: ApiServer;
  /**
   * Stops the API server and starts a new one on the same store, as a control-plane restart
   * would; `meanwhile` runs while no API server runs.
   */
  restart(meanwhile?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestApiServer(opts: TestApiServerOptions = {}): Promise<TestApiServer> {
  const nats = await startTestNats();
  try {
    const nc = await nats.connect();
    const make = async () => {
      const server = new ApiServer({ nc, logger: silentLogger(), serviceCidr: opts.serviceCidr, maxRequestsInflight: opts.maxRequestsInflight });
      await server.start();
      return server;
    };
    const api: TestApiServer = {
      nats,
      nc,
      client: new ApiClient(nc),
      server: await make(),
      async restart(meanwhile) {
        await api.server.stop();
        await meanwhile?.();
        api.server = await make();
      },
      async stop() {
        await api.server.stop();
        await nats.stop();
      },
    };
    return api;
  } catch (e) {
    await nats.stop();
    throw e;
  }
}
