/**
 * ConfigMaps and Secrets end to end on a real cluster (nats-server, control plane, a worker
 * process): stored as Kubernetes stores them (stringData folded into base64 data), bad ones
 * rejected with every field error, `get cm,secret` columns, and a container's environment from
 * `valueFrom` and `envFrom` — with a missing object as CreateContainerConfigError until it exists.
 */
import t from 'tap';
import type { Container, KubeObject } from '../protocol/objects.js';
import { rejects } from './helpers/errors.js';
import { startCluster, waitForObject, type TestCluster } from './helpers/cluster.js';

const NS = 'default';
let cluster: TestCluster;

t.before(async () => {
  // A short back-off: the kubelet tries a container with a missing ConfigMap again after it.
  cluster = await startCluster({ nodes: 1, workerArgs: ['--backoff-initial-ms', '300', '--backoff-max-ms', '1000'] });
});
t.teardown(() => cluster?.stop());

const sh = (name: string, script: string, extra: Partial<Container> = {}): Container => ({ name, image: 'busybox:1.36', command: ['sh', '-c', script], ...extra });
const pod = (name: string, containers: Container[]): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { containers, restartPolicy: 'Never' } });
const waitPod = (name: string, predicate: (p: KubeObject | undefined) => boolean, timeoutMs = 30_000) => waitForObject(cluster.client, 'Pod', name, NS, predicate, timeoutMs);

async function logsOf(name: string): Promise<Record<string, string>> {
  const p = await cluster.client.get('Pod', name, NS);
  const reply = await cluster.client.logs(p.spec.nodeName, { namespace: NS, pod: name });
  return Object.fromEntries(reply.text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

t.test('Secret stringData is stored as base64 data; get cm,secret shows kubectl columns', async (t) => {
  await cluster.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app', namespace: NS }, data: { MODE: 'fast', 'app.conf': 'level=3\n' } } as KubeObject);
  const s = await cluster.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: NS }, stringData: { password: 'hunter2' }, data: { user: Buffer.from('admin').toString('base64') } } as KubeObject);
  t.same((s as any).data, { user: 'YWRtaW4=', password: 'aHVudGVyMg==' });
  t.equal((s as any).type, 'Opaque');
  t.notOk('stringData' in s, 'stringData is write-only');

  const out = await cluster.kubeact(['get', 'cm,secret']);
  t.equal(out.code, 0, out.stderr);
  t.match(out.stdout, /^NAME\s+DATA\s+AGE\napp\s+2\s+\S+\n\nNAME\s+TYPE\s+DATA\s+AGE\ncreds\s+Opaque\s+2\s+\S+\n$/);

  const applied = await cluster.kubeact(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {MODE: slow, app.conf: "level=3\\n"}\n' });
  t.equal(applied.stdout.trim(), 'configmap/app configured', applied.stderr);
  t.same((await cluster.client.get<any>('ConfigMap', 'app', NS)).data.MODE, 'slow', 'apply carries data');
  await cluster.client.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app', namespace: NS }, data: { MODE: 'fast', 'app.conf': 'level=3\n' } } as KubeObject);
});

t.test('bad ConfigMaps and Secrets are rejected with every field error; nothing is stored', async (t) => {
  const e = await rejects(cluster.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bad', namespace: NS }, data: { 'no spaces': 'eA==', token: '***' } } as KubeObject));
  t.equal(e.reason, 'Invalid');
  t.same(e.causes?.map((c) => c.field), ['data[no spaces]', 'data[token]']);
  t.equal(await cluster.client.find('Secret', 'bad', NS), undefined);
  const cli = await cluster.kubeact(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad}\ndata: {"..x": y}\n' });
  t.equal(cli.code, 1);
  t.match(cli.stderr, /The ConfigMap "Bad" is invalid: ?\n\* metadata\.name: Invalid value: "Bad".*\n\* data\[\.\.x\]: Invalid value: "\.\.x": must not start with '\.\.'/);
});

t.test('env from valueFrom (configMapKeyRef, secretKeyRef, optional) and envFrom (prefix, invalid names skipped)', async (t) => {
  await cluster.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bulk', namespace: NS }, data: { ALPHA: 'a', BETA: 'b', '1st': 'starts with a digit' } } as KubeObject);
  await cluster.client.create(
    pod('env-from', [
      sh('main', 'for v in MODE PASS OPT CFG_ALPHA CFG_BETA ALPHA; do echo "$v=$(printenv $v)"; done; echo "WITH_1ST=$(env | grep -c ^1st=)"', {
        envFrom: [{ prefix: 'CFG_', configMapRef: { name: 'bulk' } }, { configMapRef: { name: 'missing-but-optional', optional: true } }],
        env: [
          { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'app', key: 'MODE' } } },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
          { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'app', key: 'nope', optional: true } } },
          { name: 'CFG_BETA', value: 'env wins over envFrom' },
        ],
      }),
    ]),
  );
  await waitPod('env-from', (p) => p?.status?.phase === 'Succeeded');
  const logs = await logsOf('env-from');
  t.same(logs, { MODE: 'fast', PASS: 'hunter2', OPT: '', CFG_ALPHA: 'a', CFG_BETA: 'env wins over envFrom', ALPHA: '', WITH_1ST: '0' });
});

t.test('a missing ConfigMap key or Secret: CreateContainerConfigError (pod Pending), runs once it exists', async (t) => {
  await cluster.client.create(pod('waits', [sh('main', 'echo TOKEN=$TOKEN', { env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'later', key: 'token' } } }] })]));
  const waiting = await waitPod('waits', (p) => p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError');
  t.equal(waiting?.status.phase, 'Pending');
  t.equal(waiting?.status.containerStatuses[0].state.waiting.message, 'secret "later" not found');
  t.equal(waiting?.status.containerStatuses[0].restartCount, 0, 'no run, no restart');
  const get = await cluster.kubeact(['get', 'pod', 'waits']);
  t.match(get.stdout, /waits\s+0\/1\s+CreateContainerConfigError\s+0\s/);

  await cluster.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'later', namespace: NS }, stringData: { other: 'x' } } as KubeObject);
  const keyMissing = await waitPod('waits', (p) => /couldn't find key token/.test(p?.status?.containerStatuses?.[0]?.state?.waiting?.message ?? ''));
  t.equal(keyMissing?.status.containerStatuses[0].state.waiting.message, "couldn't find key token in Secret default/later");

  await cluster.client.modify('Secret', 'later', NS, (s: any) => void (s.data.token = Buffer.from('s3cret').toString('base64')));
  await waitPod('waits', (p) => p?.status?.phase === 'Succeeded');
  t.same(await logsOf('waits'), { TOKEN: 's3cret' });
});
