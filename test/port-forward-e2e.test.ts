/**
 * `kubeact port-forward` end to end on a real 1-node cluster: to a pod, a Service (a ready
 * endpoint pod, the named targetPort resolved), a Deployment; kubectl's lines (`Forwarding
 * from`, `Handling connection for`), SIGINT ends it with 0, a deleted pod ends it with `lost
 * connection to pod`; wrong ports, a pending pod and bad mappings are refused with one clear line.
 */
import t from 'tap';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import type { KubeObject } from '../protocol/objects.js';
import { CLI_MAIN } from '../nodes/shared/run-cli.js';
import { startCluster, waitForObject, type TestCluster } from './helpers/cluster.js';

let cluster: TestCluster;

t.before(async () => {
  cluster = await startCluster({ nodes: 1 });
});

t.teardown(async () => {
  await cluster?.stop();
});

const SERVER = "require('http').createServer((q, s) => s.end(process.env.POD_NAME)).listen(8080, process.env.POD_IP)";

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'pf', namespace: 'default' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'pf' } },
    template: {
      metadata: { labels: { app: 'pf' } },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [{ name: 'web', image: 'node:20', command: [process.execPath, '-e', SERVER], ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 1 } }],
      },
    },
  },
};

interface Forward {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number>;
}

function portForward(args: string[]): Forward {
  const child = spawn(process.execPath, [CLI_MAIN, 'port-forward', ...args], { env: { ...process.env, KUBEACT_HOME: cluster.home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits until the output matches (each chunk is checked as it arrives), with a deadline. */
function waitForOutput(f: Forward, re: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = f.stdout().match(re);
      if (!m) return false;
      cleanup();
      resolve(m);
      return true;
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${re} within ${timeoutMs} ms; stdout: ${f.stdout()} stderr: ${f.stderr()}`));
    }, timeoutMs);
    const onData = () => void check();
    const onExit = () => {
      if (check()) return;
      cleanup();
      reject(new Error(`port-forward exited before ${re}; stdout: ${f.stdout()} stderr: ${f.stderr()}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      f.child.stdout!.off('data', onData);
      f.child.off('exit', onExit);
    };
    f.child.stdout!.on('data', onData);
    f.child.on('exit', onExit);
    check();
  });
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

let podNames: string[];

t.test('setup: a Deployment of 2 ready HTTP pods behind a Service with a named targetPort', async (t) => {
  await cluster.client.create(deployment);
  await cluster.client.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'pf', namespace: 'default' }, spec: { selector: { app: 'pf' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] } });
  const ep = await waitForObject(cluster.client, 'Endpoints', 'pf', 'default', (e: any) => (e?.subsets ?? []).flatMap((s: any) => s.addresses ?? []).length === 2, 60_000);
  podNames = (ep as any).subsets.flatMap((s: any) => s.addresses.map((a: any) => a.targetRef.name)).sort();
  t.equal(podNames.length, 2);
});

t.test('svc/NAME :PORT: a random local port to a ready endpoint pod, the service port translated to the named targetPort', async (t) => {
  const f = portForward(['svc/pf', ':80']);
  const m = await waitForOutput(f, /^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)$/m);
  t.equal(m[2], '8080', 'the pod port kubectl prints: the resolved targetPort');
  const local = Number(m[1]);
  const body = await get(local);
  t.ok(podNames.includes(body), `answered by a pod of the service (${body})`);
  t.equal(await get(local), body, 'every connection goes to the same pod');
  await waitForOutput(f, new RegExp(`^Handling connection for ${local}$`, 'm'));
  f.child.kill('SIGINT');
  t.equal(await f.exited, 0, 'SIGINT: exit 0');
  await t.rejects(get(local), 'the port is closed afterwards');
});

t.test('pod/NAME LOCAL:REMOTE with a port name, and deploy/NAME', async (t) => {
  const f = portForward([`pod/${podNames[0]}`, ':http']);
  const m = await waitForOutput(f, /^Forwarding from 127\.0\.0\.1:(\d+) -> 8080$/m);
  t.equal(await get(Number(m[1])), podNames[0]);
  f.child.kill('SIGINT');
  t.equal(await f.exited, 0);

  const d = portForward(['deploy/pf', ':8080', '-n', 'default']);
  const dm = await waitForOutput(d, /^Forwarding from 127\.0\.0\.1:(\d+) -> 8080$/m);
  t.ok(podNames.includes(await get(Number(dm[1]))), 'a pod of the deployment');
  d.child.kill('SIGTERM');
  t.equal(await d.exited, 0);
});

t.test('the pod goes away: "lost connection to pod", exit 1', async (t) => {
  const victim = podNames[1];
  const f = portForward([victim, ':8080']);
  await waitForOutput(f, /^Forwarding from/m);
  await cluster.client.delete('Pod', victim, { namespace: 'default' });
  t.equal(await f.exited, 1);
  t.match(f.stderr(), /error: lost connection to pod/);
});

t.test('refused with one clear line: a port the service lacks, a pending pod, bad mappings, other kinds', async (t) => {
  const noPort = await cluster.kubeact(['port-forward', 'svc/pf', '81']);
  t.equal(noPort.code, 1);
  t.equal(noPort.stderr.trim(), 'error: Service pf does not have a service port 81');
  await cluster.client.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stuck', namespace: 'default' }, spec: { nodeSelector: { nowhere: 'true' }, containers: [{ name: 'c', image: 'x', command: ['true'] }] } });
  const pending = await cluster.kubeact(['port-forward', 'stuck', '8080']);
  t.equal(pending.stderr.trim(), 'error: unable to forward port because pod is not running. Current status=Pending');
  const bad = await cluster.kubeact(['port-forward', 'svc/pf', '70000']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^error: invalid port mapping "70000"/);
  const none = await cluster.kubeact(['port-forward', 'svc/pf']);
  t.match(none.stderr, /TYPE\/NAME and list of ports are required/);
  const node = await cluster.kubeact(['port-forward', 'node/node-1', '80']);
  t.match(node.stderr, /^error: cannot attach to Node/);
  const missing = await cluster.kubeact(['port-forward', 'pod/ghost', '80']);
  t.match(missing.stderr, /pods "ghost" not found/);
});
