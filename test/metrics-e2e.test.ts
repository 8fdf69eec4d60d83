/**
 * Metrics end to end on a real cluster: kubelets sample their containers (whole process groups)
 * and publish; the control plane's metrics server answers PodMetrics/NodeMetrics; `kubeact top`
 * prints them in kubectl's layout. A garbage report on the metrics subject is ignored.
 */
import t from 'tap';
import YAML from 'yaml';
import { encode } from '../protocol/codec.js';
import { parseQuantity } from '../protocol/quantity.js';
import { subjects } from '../protocol/subjects.js';
import { startCluster } from './helpers/cluster.js';
import { retry } from './helpers/wait.js';

const cluster = await startCluster({ nodes: 1, workerArgs: ['--metrics-ms', '500'] });
t.teardown(cluster.stop);
const { client, kubeact } = cluster;

const pod = (name: string, command: string[]) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'metrics-e2e', role: name } },
  spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'kubeact/host:1.0', command }] },
});

t.test('top pods shows the CPU of a child process and the memory of a hog; top nodes shows the node', async (t) => {
  const burner = pod('burner', ['sh', '-c', `node -e "for(;;){}" & wait`]);
  const hog = pod('hog', ['node', '-e', 'globalThis.keep=Buffer.alloc(80*1024*1024,1);setInterval(()=>{},1000)']);
  const applied = await kubeact(['apply', '-f', '-'], { input: [burner, hog].map((d) => YAML.stringify(d)).join('---\n') });
  t.equal(applied.code, 0, applied.stderr);

  // Garbage on the metrics subject must not take the metrics server down.
  cluster.nc.publish(subjects.nodeMetrics('bogus'), new Uint8Array([0xc1, 0xff]));
  cluster.nc.publish(subjects.nodeMetrics('bogus'), encode({ node: 'bogus' }));

  const items = await retry('both pods measured', async () => {
    const list = await client.podMetrics({ namespace: 'default', labelSelector: 'app=metrics-e2e' });
    const cpu = (n: string) => parseQuantity(list.items.find((p) => p.metadata.name === n)?.containers[0]?.usage.cpu ?? '0') ?? 0;
    const mem = (n: string) => parseQuantity(list.items.find((p) => p.metadata.name === n)?.containers[0]?.usage.memory ?? '0') ?? 0;
    if (cpu('burner') < 0.2) throw new Error(`burner cpu ${cpu('burner')}`);
    if (mem('hog') < 80 * 2 ** 20) throw new Error(`hog memory ${mem('hog')}`);
    return list.items;
  }, 90_000, 250);
  const burnerMetrics = items.find((p) => p.metadata.name === 'burner')!;
  t.equal(burnerMetrics.apiVersion, 'metrics.k8s.io/v1beta1');
  t.equal(burnerMetrics.kind, 'PodMetrics');
  t.match(burnerMetrics.containers[0].usage.cpu, /^\d+n$/, 'cpu in nanocores, as metrics-server');
  t.match(burnerMetrics.containers[0].usage.memory, /^\d+Ki$/, 'memory in Ki, as metrics-server');
  t.same(burnerMetrics.metadata.labels, { app: 'metrics-e2e', role: 'burner' });

  const top = await kubeact(['top', 'pods', '-l', 'app=metrics-e2e', '--sort-by', 'cpu']);
  t.equal(top.code, 0, top.stderr);
  const lines = top.stdout.trimEnd().split('\n');
  t.match(lines[0], /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)\s*$/);
  t.match(lines[1], /^burner\s+\d+m\s+\d+Mi\s*$/, 'sorted by cpu: the burner first');
  t.match(lines[2], /^hog\s+\d+m\s+\d+Mi\s*$/);
  const hogMi = Number(/(\d+)Mi/.exec(lines[2])![1]);
  t.ok(hogMi >= 80, `hog shows at least 80Mi (${hogMi}Mi)`);

  const nodes = await kubeact(['top', 'nodes']);
  t.equal(nodes.code, 0, nodes.stderr);
  const nodeLines = nodes.stdout.trimEnd().split('\n');
  t.match(nodeLines[0], /^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\)\s*$/);
  t.equal(nodeLines.length, 2, 'one node, the bogus report left out');
  t.match(nodeLines[1], /^\S+\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\s*$/);

  const none = await kubeact(['top', 'pods', '-n', 'nothing-here']);
  t.equal(none.code, 0);
  t.match(none.stderr, /No resources found in nothing-here namespace\./);
  const bad = await kubeact(['top', 'pods', '--sort-by', 'name']);
  t.not(bad.code, 0);
  t.match(bad.stderr, /--sort-by accepts only cpu or memory/);
});
