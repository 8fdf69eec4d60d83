/**
 * A real test cluster: `kubeact up` (nats-server, control plane, workers as separate OS
 * processes) in its own KUBEACT_HOME, with its own loopback blocks; `stop()` runs `down`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { ApiClient } from '../../protocol/client.js';
import type { Kind } from '../../protocol/kinds.js';
import type { KubeObject } from '../../protocol/objects.js';
import type { ClusterContext } from '../../nodes/launcher/context.js';
import { down } from '../../nodes/launcher/down.js';
import { up, type UpOptions } from '../../nodes/launcher/up.js';
import { runCli, type CliResult } from '../../nodes/shared/run-cli.js';
import { hostAddress, parseCidr } from '../../nodes/shared/cidr.js';
import { allocateBlock, type Block } from './blocks.js';

export { runCli, type CliResult };

export interface TestCluster {
  ctx: ClusterContext;
  home: string;
  block: Block;
  nc: NatsConnection;
  client: ApiClient;
  kubeact(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<CliResult>;
  stop(): Promise<void>;
}

export async function startCluster(opts: Partial<UpOptions> & { nodes: number }): Promise<TestCluster> {
  const block = allocateBlock();
  const home = mkdtempSync(path.join(os.tmpdir(), 'kubeact-test-home-'));
  let ctx: ClusterContext;
  try {
    // Test machines run many clusters at once on 2 cores: a kubelet may stall for seconds, so
    // clusters that do not test node failure get a node-monitor grace period that tolerates it.
    const controlPlaneArgs = opts.controlPlaneArgs ?? ['--node-monitor-grace-ms', '30000'];
    ctx = await up({
      nodeNetwork: block.nodeNetwork,
      podNetwork: block.podNetwork,
      serviceNetwork: block.serviceNetwork,
      loadBalancerPool: block.loadBalancerPool,
      // Simulated nodes bind nothing, but keep to the block all the same (tests mixing real and
      // simulated nodes pass their own simulated networks).
      simulatedNodeNetwork: block.nodeNetwork,
      simulatedPodNetwork: block.podNetwork,
      inspectorAddress: '127.0.0.1:0',
      // Prometheus: the control plane on an address of this block (nodes use their own), so ports never collide.
      ...(opts.prometheusPort !== undefined ? { prometheusHost: hostAddress(parseCidr(block.nodeNetwork), 199) } : {}),
      ...opts,
      controlPlaneArgs,
      home,
    });
  } catch (e) {
    block.release();
    rmSync(home, { recursive: true, force: true });
    throw e;
  }
  const nc = await connect({ servers: ctx.natsUrl, name: 'test-client' });
  const client = new ApiClient(nc);
  return {
    ctx,
    home,
    block,
    nc,
    client,
    kubeact: (args, o) => runCli(args, { KUBEACT_HOME: home }, o),
    async stop() {
      await nc.close().catch(() => {});
      await down({ home });
      // KUBEACT_TEST_KEEP_LOGS=1: the cluster's home (its logs under cluster/logs) stays for a post-mortem.
      if (process.env.KUBEACT_TEST_KEEP_LOGS) process.stderr.write(`kept the test cluster's home ${home}\n`);
      else rmSync(home, { recursive: true, force: true });
      block.release();
    },
  };
}

/** Waits on watch events (never sleeps) until `predicate` holds for the object; see ApiClient.waitFor. */
export function waitForObject<T extends KubeObject = KubeObject>(
  client: ApiClient,
  kind: Kind,
  name: string,
  namespace: string | undefined,
  predicate: (obj: T | undefined) => boolean,
  timeoutMs = 20_000,
): Promise<T | undefined> {
  return client.waitFor<T>(kind, name, namespace, predicate, timeoutMs);
}

/** Resolves with the pod's Events once `predicate` holds for them (watch-based, with a deadline). */
export async function waitForPodEvents(
  client: ApiClient,
  pod: { metadata?: { name?: string; namespace?: string; uid?: string } },
  predicate: (events: KubeObject[]) => boolean,
  timeoutMs = 10_000,
): Promise<KubeObject[]> {
  const uid = pod.metadata!.uid;
  const events = new Map<string, KubeObject>();
  let settle!: () => void;
  const done = new Promise<void>((r) => (settle = r));
  const watch = await client.watch('Event', { namespace: pod.metadata!.namespace ?? 'default', fieldSelector: `involvedObject.name=${pod.metadata!.name}` }, (ev) => {
    if ((ev.object as any).involvedObject?.uid !== uid) return;
    if (ev.type === 'DELETED') events.delete(ev.object.metadata!.name!);
    else events.set(ev.object.metadata!.name!, ev.object);
    if (predicate([...events.values()])) settle();
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    if (predicate([...events.values()])) return [...events.values()];
    await Promise.race([
      done,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for Events of pod ${pod.metadata!.name}; saw: ${JSON.stringify([...events.values()].map((e: any) => [e.type, e.reason, e.message, e.count]))}`)), timeoutMs);
      }),
    ]);
    return [...events.values()];
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
}
