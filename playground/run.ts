/**
 * The kubeact playground: a real multi-process cluster on this machine, driven through the
 * `kubeact` CLI, each step narrated and checked. Exits 0 when every step held, non-zero
 * naming the step that failed.
 *
 *   npm run playground              # bring up, exercise, tear down
 *   npm run playground -- --keep    # leave the cluster running afterwards
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'nats';
import { ApiClient } from '../protocol/client.js';
import type { Node, Pod } from '../protocol/objects.js';
import { deploymentSteps } from './deployment-steps.js';
import { dnsSteps } from './dns-steps.js';
import { hpaSteps } from './hpa-steps.js';
import { inspectorSteps } from './inspector-steps.js';
import { netpolSteps } from './netpol-steps.js';
import { storageSteps } from './storage-steps.js';
import { down } from '../nodes/launcher/down.js';
import { up } from '../nodes/launcher/up.js';
import { PACKAGE_ROOT } from '../nodes/shared/paths.js';
import { runCli } from '../nodes/shared/run-cli.js';
import { check, Narrator, StepFailed } from './narrator.js';

const keep = process.argv.includes('--keep');
const home = process.env.KUBEACT_HOME ?? mkdtempSync(path.join(os.tmpdir(), 'kubeact-playground-'));
const env = { KUBEACT_HOME: home };
const manifest = path.join(PACKAGE_ROOT, 'playground', 'manifests', 'hello-pod.yaml');
const deploymentManifest = path.join(PACKAGE_ROOT, 'playground', 'manifests', 'web-deployment.yaml');
const netpolManifest = path.join(PACKAGE_ROOT, 'playground', 'manifests', 'web-netpol.yaml');
const hpaManifest = path.join(PACKAGE_ROOT, 'playground', 'manifests', 'hpa-php.yaml');
const n = new Narrator();

async function kubeact(args: string[], opts: { expectFail?: boolean } = {}): Promise<string> {
  const res = await runCli(args, env);
  n.command(args, res.stdout + (res.stderr ? res.stderr : ''));
  if (!opts.expectFail && res.code !== 0) throw new Error(`kubeact ${args.join(' ')} exited ${res.code}: ${res.stderr.trim()}`);
  return res.stdout;
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return res.text();
}

async function main(): Promise<void> {
  console.log('kubeact playground — a Kubernetes-style cluster of XState actors over NATS, on this machine');
  console.log(`(cluster state in ${home})`);
  let client: ApiClient | undefined;
  let closeNats = async () => {};
  try {
    const ctx = await n.step('Bring up a cluster: nats-server, control plane and 3 worker nodes, each its own process', async () => {
      // Short HPA sync, scale-down window and metrics interval, so the autoscaling step fits in seconds.
      const c = await up({ nodes: 3, home, inspect: true, hpa: { syncPeriodMs: 1000, downscaleStabilizationMs: 5000 }, workerArgs: ['--metrics-ms', '2000'], say: (l) => n.say(l) });
      const nc = await connect({ servers: c.natsUrl, name: 'playground' });
      client = new ApiClient(nc);
      closeNats = () => nc.close();
      return c;
    });
    n.say(`processes: ${ctx.processes.map((p) => `${p.name}(${p.pid})`).join(', ')}`);

    await n.step('The nodes registered themselves with the API server and are Ready', async () => {
      const out = await kubeact(['get', 'nodes', '-o', 'wide']);
      const nodes = (await client!.list<Node>('Node')).items;
      check(nodes.length === 3, `expected 3 nodes, found ${nodes.length}`);
      check((out.match(/\bReady\b/g) ?? []).length === 3, 'not all 3 nodes show Ready');
    });

    await n.step('Apply a pod that serves HTTP on its own pod IP', async () => {
      const out = await kubeact(['apply', '-f', manifest]);
      check(out.includes('pod/hello created') || out.includes('pod/hello configured') || out.includes('pod/hello unchanged'), 'apply did not report pod/hello');
    });

    const pod = await n.step('The scheduler places it on a node and its kubelet starts it: Running', async () => {
      const running = await client!.waitFor<Pod>('Pod', 'hello', 'default', (p) => p?.status?.phase === 'Running' && Boolean(p.status.podIP), 20_000);
      await kubeact(['get', 'pods', '-o', 'wide']);
      check(running?.spec?.nodeName, 'pod has no node');
      n.say(`scheduled to ${running!.spec!.nodeName}, pod IP ${running!.status!.podIP}`);
      return running!;
    });

    await n.step(`Fetch http://${pod.status!.podIP}:8080/ from the pod`, async () => {
      const url = `http://${pod.status!.podIP}:8080/`;
      const deadline = Date.now() + 10_000;
      let body = '';
      let lastError = '';
      // The container is Running as soon as its process is; the server listens a moment later.
      while (Date.now() < deadline) {
        try {
          body = await fetchText(url);
          break;
        } catch (e) {
          lastError = (e as Error).message;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      check(body, `no answer from ${url}: ${lastError}`);
      n.say(`GET ${url} → ${body.trim()}`);
      check(body.includes('hello from pod hello') && body.includes(pod.spec!.nodeName!), `unexpected answer: ${body}`);
    });

    await n.step('Read the container logs through the node\'s kubelet', async () => {
      const out = await kubeact(['logs', 'hello']);
      check(out.includes('listening on') && out.includes('GET /'), 'the logs do not show the server and the request');
    });

    await n.step('Describe the pod: its conditions and the Events that scheduler and kubelet recorded', async () => {
      const out = await kubeact(['describe', 'pod', 'hello']);
      check(out.includes('Scheduled') && out.includes('Started'), 'describe does not show the Scheduled and Started events');
    });

    await n.step('Delete the pod: SIGTERM to the container, the object goes once it stopped', async () => {
      const out = await kubeact(['delete', 'pod', 'hello']);
      check(out.includes('pod "hello" deleted'), 'delete did not confirm');
      const gone = await client!.find('Pod', 'hello', 'default');
      check(!gone, 'the pod is still there after delete returned');
      await kubeact(['get', 'pods'], { expectFail: true });
    });

    await inspectorSteps({ n, kubeact });

    await deploymentSteps({ n, client: client!, kubeact, manifest: deploymentManifest, home });
    await dnsSteps({ n, client: client!, kubeact });
    await hpaSteps({ n, client: client!, kubeact, manifest: hpaManifest });
    await storageSteps({ n, client: client!, kubeact, workDir: home });
    // Last: its policies cut this host off the web Service.
    await netpolSteps({ n, client: client!, kubeact, manifest: netpolManifest, workDir: home });

    if (keep) {
      console.log(`\nThe cluster keeps running. Use it with:\n  export KUBEACT_HOME=${home}\n  npx kubeact get nodes\n  npx kubeact inspect --web   # the web inspector's URL\n  npx kubeact down`);
    } else {
      await n.step('Tear down: every process of the cluster stops', async () => {
        await closeNats();
        await down({ home, say: (l) => n.say(l) });
        rmSync(home, { recursive: true, force: true });
      });
    }
    console.log(`\n\x1b[32mAll steps held\x1b[0m (${((Date.now() - n.started) / 1000).toFixed(1)} s).`);
  } catch (e) {
    await closeNats().catch(() => {});
    if (!keep) {
      await down({ home }).catch(() => {});
    }
    const step = e instanceof StepFailed ? e.step : '(start-up)';
    console.error(`\n\x1b[31mFAILED at step ${step}\x1b[0m: ${(e as Error).message}`);
    console.error(`logs are in ${path.join(home, 'cluster', 'logs')}`);
    process.exitCode = 1;
  }
}

void main();
