/**
 * The playground's Deployment part: replicas spread over the nodes, scaling, a rolling
 * update, rollback, pause/resume, and a worker node killed with SIGKILL whose pods are
 * replaced elsewhere. Each step is narrated and checked.
 */
import type { ApiClient } from '../protocol/client.js';
import type { KubeObject, Node, Pod } from '../protocol/objects.js';
import { loadContext } from '../nodes/launcher/context.js';
import { check, type Narrator } from './narrator.js';

export interface DeploymentStepsOptions {
  n: Narrator;
  client: ApiClient;
  kubeact(args: string[], opts?: { expectFail?: boolean }): Promise<string>;
  manifest: string;
  home: string;
}

const REVISION = 'deployment.kubernetes.io/revision';

function complete(d: KubeObject | undefined, replicas: number): boolean {
  const st = d?.status ?? {};
  return (
    (st.observedGeneration ?? 0) >= (d?.metadata?.generation ?? 1) &&
    st.updatedReplicas === replicas &&
    st.replicas === replicas &&
    st.availableReplicas === replicas
  );
}

function isReady(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * Watches the deployment's pods and calls `check` with the live (not terminating) ones after
 * every change; resolves when it returns true, rejects after `timeoutMs`.
 */
async function untilPods(client: ApiClient, check: (pods: Pod[]) => boolean, timeoutMs: number, what: string): Promise<Pod[]> {
  const pods = new Map<string, Pod>();
  let done!: (p: Pod[]) => void;
  const finished = new Promise<Pod[]>((r) => (done = r));
  const live = () => [...pods.values()].filter((p) => !p.metadata?.deletionTimestamp);
  const watch = await client.watch('Pod', { labelSelector: 'app=web' }, (ev) => {
    const pod = ev.object as unknown as Pod;
    if (ev.type === 'DELETED') pods.delete(pod.metadata!.name!);
    else pods.set(pod.metadata!.name!, pod);
    if (check(live())) done(live());
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    if (check(live())) return live();
    return await Promise.race([finished, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting: ${what}`)), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
    watch.stop();
  }
}

async function webPods(client: ApiClient): Promise<Pod[]> {
  return (await client.list('Pod', { labelSelector: 'app=web' })).items.filter((p) => !p.metadata?.deletionTimestamp) as unknown as Pod[];
}

export async function deploymentSteps({ n, client, kubeact, manifest, home }: DeploymentStepsOptions): Promise<void> {
  await n.step('Apply a Deployment of 3 replicas: the scheduler spreads them over the nodes', async () => {
    await kubeact(['apply', '-f', manifest]);
    await kubeact(['rollout', 'status', 'deployment/web', '--timeout', '60s']);
    await kubeact(['get', 'deployment,replicaset']);
    await kubeact(['get', 'pods', '-l', 'app=web', '-o', 'wide']);
    const nodes = new Set((await webPods(client)).map((p) => p.spec?.nodeName));
    check(nodes.size === 3, `expected the 3 replicas on 3 different nodes, got ${[...nodes].join(', ')}`);
  });

  await n.step('Scale to 5 replicas', async () => {
    await kubeact(['scale', 'deployment/web', '--replicas=5']);
    await kubeact(['rollout', 'status', 'deployment/web', '--timeout', '60s']);
    const pods = await webPods(client);
    check(pods.length === 5, `expected 5 pods, found ${pods.length}`);
  });

  await n.step('Rolling update to version 2: a new ReplicaSet, one surge pod at a time, never fewer than 5 ready', async () => {
    // The ready count at every pod event while the update runs.
    const pods = new Map<string, Pod>();
    let minReady = Infinity;
    let listed = false; // the watch first delivers the current pods one by one: count from then on
    const readyNow = () => [...pods.values()].filter((p) => !p.metadata?.deletionTimestamp && isReady(p)).length;
    const watch = await client.watch('Pod', { labelSelector: 'app=web' }, (ev) => {
      const pod = ev.object as unknown as Pod;
      if (ev.type === 'DELETED') pods.delete(pod.metadata!.name!);
      else pods.set(pod.metadata!.name!, pod);
      if (listed) minReady = Math.min(minReady, readyNow());
    });
    listed = true;
    minReady = readyNow();
    try {
      await kubeact(['set', 'image', 'deployment/web', 'web=kubeact/web:2.0']);
      await kubeact(['rollout', 'status', 'deployment/web', '--timeout', '90s']);
    } finally {
      watch.stop();
    }
    await kubeact(['get', 'replicasets', '-o', 'wide']);
    const d = await client.get('Deployment', 'web', 'default');
    check(d.metadata?.annotations?.[REVISION] === '2', `expected revision 2, got ${d.metadata?.annotations?.[REVISION]}`);
    n.say(`fewest ready replicas seen during the update: ${minReady} (maxUnavailable is 0)`);
    check(minReady >= 5, `ready replicas dropped to ${minReady}`);
  });

  await n.step('Roll back: rollout undo brings version 1 back as revision 3', async () => {
    await kubeact(['rollout', 'undo', 'deployment/web']);
    await client.waitFor('Deployment', 'web', 'default', (d) => complete(d, 5) && d?.spec?.template?.spec?.containers?.[0]?.image === 'kubeact/web:1.0', 90_000);
    await kubeact(['rollout', 'history', 'deployment/web']);
    const d = await client.get('Deployment', 'web', 'default');
    check(d.metadata?.annotations?.[REVISION] === '3', `expected revision 3, got ${d.metadata?.annotations?.[REVISION]}`);
  });

  await n.step('Pause: a changed template does not roll out until resume', async () => {
    await kubeact(['rollout', 'pause', 'deployment/web']);
    const before = (await client.list('ReplicaSet', { labelSelector: 'app=web' })).items.length;
    await kubeact(['set', 'image', 'deployment/web', 'web=kubeact/web:3.0']);
    // The controller has seen the change once observedGeneration catches up with generation.
    await client.waitFor('Deployment', 'web', 'default', (d) => (d?.status?.observedGeneration ?? 0) >= (d?.metadata?.generation ?? 0), 30_000);
    const during = (await client.list('ReplicaSet', { labelSelector: 'app=web' })).items.length;
    check(during === before, `a new ReplicaSet appeared while paused (${before} → ${during})`);
    n.say(`still ${during} ReplicaSets while paused`);
    await kubeact(['rollout', 'resume', 'deployment/web']);
    await kubeact(['rollout', 'status', 'deployment/web', '--timeout', '90s']);
    const d = await client.get('Deployment', 'web', 'default');
    check(d.metadata?.annotations?.[REVISION] === '4', `expected revision 4 after resume, got ${d.metadata?.annotations?.[REVISION]}`);
  });

  await n.step('Expose the Deployment as a NodePort Service: requests through its ClusterIP land on different pods', async () => {
    await kubeact(['expose', 'deployment/web', '--port', '80', '--target-port', '8080', '--type', 'NodePort']);
    await client.waitFor('Endpoints', 'web', 'default', (ep) => ((ep as { subsets?: { addresses?: unknown[] }[] } | undefined)?.subsets ?? []).flatMap((s) => s.addresses ?? []).length === 5, 30_000);
    await kubeact(['get', 'service,endpoints', 'web']);
    const service = await client.get('Service', 'web', 'default');
    const clusterIP = service.spec.clusterIP as string;
    const nodePort = service.spec.ports[0].nodePort as number;
    const seen = new Set<string>();
    const deadline = Date.now() + 20_000;
    // kube-proxy opens the ClusterIP listener once it has seen the Service: retry until it answers.
    while (seen.size < 2 && Date.now() < deadline) {
      try {
        const res = await fetch(`http://${clusterIP}/`, { signal: AbortSignal.timeout(2000) });
        seen.add((await res.text()).trim());
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`http://${clusterIP}/`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      if (res) seen.add((await res.text()).trim());
    }
    n.say(`GET http://${clusterIP}/ answered from: ${[...seen].join(' | ')}`);
    check(seen.size >= 2, `requests through the ClusterIP reached ${seen.size} pod(s)`);
    const node = (await client.list('Node')).items[0] as unknown as Node;
    const nodeIP = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const viaNodePort = await fetch(`http://${nodeIP}:${nodePort}/`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text());
    n.say(`GET http://${nodeIP}:${nodePort}/ (NodePort) → ${viaNodePort.trim()}`);
    check(viaNodePort.includes(' on node-'), 'no answer through the NodePort');
  });

  await n.step('Kill a worker node with SIGKILL: it turns NotReady and its pods are replaced on the others', async () => {
    const pods = await webPods(client);
    const counts = new Map<string, number>();
    for (const p of pods) counts.set(p.spec!.nodeName!, (counts.get(p.spec!.nodeName!) ?? 0) + 1);
    const victim = [...counts].sort((a, b) => b[1] - a[1])[0][0];
    const proc = loadContext(home)?.processes.find((p) => p.name === victim);
    check(proc, `no process recorded for ${victim}`);
    n.say(`${victim} runs ${counts.get(victim)} of the 5 replicas; kill -9 ${proc!.pid}`);
    const t0 = Date.now();
    process.kill(proc!.pid, 'SIGKILL');
    await client.waitFor<KubeObject>('Node', victim, undefined, (node) => (node as Node | undefined)?.status?.conditions?.some((c) => c.type === 'Ready' && c.status !== 'True') ?? false, 30_000);
    n.say(`${victim} NotReady after ${Date.now() - t0} ms`);
    await untilPods(client, (live) => live.filter((p) => p.spec?.nodeName !== victim && isReady(p)).length >= 5, 30_000, `5 ready replicas off ${victim}`);
    n.say(`all 5 replicas Ready on the remaining nodes ${Date.now() - t0} ms after the SIGKILL`);
    await kubeact(['get', 'nodes']);
    await kubeact(['get', 'pods', '-l', 'app=web', '-o', 'wide']);
  });
}
