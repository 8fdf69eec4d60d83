#!/usr/bin/env node
/**
 * The control-plane process: API server, scheduler and controller-manager.
 *   node dist/nodes/controlplane/main.js --nats nats://127.0.0.1:4222
 */
import { daemonArgs } from '../shared/args.js';
import { connectNats, onShutdown } from '../shared/connect.js';
import { createLogger } from '../shared/logger.js';
import { ApiServer } from '../apiserver/server.js';
import { ApiClient } from '../../protocol/client.js';
import { SchedulerHost } from '../scheduler/host.js';
import { ControllerManager } from '../controllers/manager.js';
import { InspectCapture } from '../inspect/capture.js';

const args = daemonArgs({
  nats: { type: 'string', default: process.env.KUBEACT_NATS_URL ?? 'nats://127.0.0.1:4222' },
  'scheduler-retry-ms': { type: 'string', default: '5000' },
  'node-monitor-grace-ms': { type: 'string', default: '3000' },
  'service-cidr': { type: 'string', default: '127.100.0.0/16' },
  'load-balancer-pool': { type: 'string', default: '127.112.0.0/24' },
  'pod-eviction-toleration-ms': { type: 'string', default: '1000' },
  // Inspector capture of every actor's transitions: on by default; `--inspect off` turns it off.
  inspect: { type: 'string', default: 'on' },
});

const log = createLogger('control-plane');

async function main(): Promise<void> {
  const nc = await connectNats(args.nats as string, 'kubeact-control-plane', log);
  const api = new ApiServer({ nc, logger: log.child({ component: 'apiserver' }), serviceCidr: args['service-cidr'] as string });
  await api.start();
  const client = new ApiClient(nc);
  const inspect = isOn(args.inspect as string) ? await InspectCapture.start(nc, 'control-plane', { log: log.child({ component: 'inspect' }) }) : undefined;
  const scheduler = new SchedulerHost({ client, logger: log.child({ component: 'scheduler' }), retryIntervalMs: Number(args['scheduler-retry-ms']), inspect });
  await scheduler.start();
  const controllers = new ControllerManager({
    nc,
    client,
    logger: log.child({ component: 'controller-manager' }),
    nodeMonitorGraceMs: Number(args['node-monitor-grace-ms']),
    podEvictionTolerationMs: Number(args['pod-eviction-toleration-ms']),
    loadBalancerPool: args['load-balancer-pool'] as string,
    inspect,
  });
  await controllers.start();
  log.info({ nats: args.nats }, 'control plane ready');
  onShutdown(async () => {
    await controllers.stop();
    await scheduler.stop();
    await api.stop();
    await inspect?.close();
    await nc.drain();
  }, log);
}

function isOn(v: string): boolean {
  return !['off', 'false', '0', 'no'].includes(v.toLowerCase());
}

main().catch((e) => {
  log.fatal({ err: e }, 'control plane failed to start');
  process.exit(1);
});
