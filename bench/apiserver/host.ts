#!/usr/bin/env node
/**
 * The API server alone in its own process, for bench/apiserver/run.ts: its CPU time (from
 * /proc) is then the API server's, not the client's. `--cpu-prof` in NODE_OPTIONS profiles it.
 *   node dist/bench/apiserver/host.js nats://127.0.0.1:PORT [on|seats|off]
 * The optional API priority mode (bench/lease-flood.ts): `on` (default: workload seats and a
 * connection of its own for node-critical requests), `seats` (seats only, one connection),
 * `off` (neither: every request served at once in arrival order on one connection, as before).
 * Prints `ready` on stdout once it serves; SIGTERM stops it.
 */
import { ApiServer } from '../../nodes/apiserver/server.js';
import { connectNats } from '../../nodes/shared/connect.js';
import { createLogger } from '../../nodes/shared/logger.js';

const url = process.argv[2];
const mode = process.argv[3] ?? 'on';
if (!url) {
  console.error('usage: host.js NATS_URL');
  process.exit(2);
}
const log = createLogger('bench-apiserver');
const nc = await connectNats(url, 'kubeact-bench-apiserver', log);
const priorityNc = mode === 'on' ? await connectNats(url, 'kubeact-bench-apiserver-priority', log) : undefined;
// Server-side latency of Lease updates (receive → reply), printed on stderr at exit: where a renewal waits.
const leaseMs: number[] = [];
const observeRequest = (verb: string, kind: string, _code: number, seconds: number) => {
  if (kind === 'Lease' && verb === 'update') leaseMs.push(seconds * 1000);
};
const api = new ApiServer({ nc, priorityNc, logger: log, observeRequest, priority: mode !== 'off' });
await api.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  const sorted = leaseMs.sort((a, b) => a - b);
  const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(1) : 'NaN');
  if (sorted.length) process.stderr.write(`lease updates in the API server: ${sorted.length}, p50 ${at(50)} ms, p99 ${at(99)} ms, max ${at(100)} ms\n`);
  void api
    .stop()
    .then(() => priorityNc?.drain())
    .then(() => nc.drain())
    .finally(() => process.exit(0));
});
