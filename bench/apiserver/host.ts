#!/usr/bin/env node
/**
 * The API server alone in its own process, for bench/apiserver/run.ts: its CPU time (from
 * /proc) is then the API server's, not the client's. `--cpu-prof` in NODE_OPTIONS profiles it.
 *   node dist/bench/apiserver/host.js nats://127.0.0.1:PORT
 * Prints `ready` on stdout once it serves; SIGTERM stops it.
 */
import { ApiServer } from '../../nodes/apiserver/server.js';
import { connectNats } from '../../nodes/shared/connect.js';
import { createLogger } from '../../nodes/shared/logger.js';

const url = process.argv[2];
if (!url) {
  console.error('usage: host.js NATS_URL');
  process.exit(2);
}
const log = createLogger('bench-apiserver');
const nc = await connectNats(url, 'kubeact-bench-apiserver', log);
const api = new ApiServer({ nc, logger: log });
await api.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void api
    .stop()
    .then(() => nc.drain())
    .finally(() => process.exit(0));
});
