/**
 * NotFound / AlreadyExists / Conflict messages name the resource as kube-apiserver does —
 * plural plus API group outside the core group (`deployments.apps "web" not found`) — on the
 * wire from a real API server, and as kubectl 1.32 prints them from the CLI commands that
 * look an object up themselves (scale, set image, cordon; rollout uses the same error).
 */
import t from 'tap';
import { runCli } from '../nodes/shared/run-cli.js';
import type { ApiClient } from '../protocol/client.js';
import { Reason } from '../protocol/errors.js';
import { qualifiedResource } from '../protocol/kinds.js';
import type { KubeObject } from '../protocol/objects.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { rejects } from './helpers/errors.js';

let api: TestApiServer;
let client: ApiClient;

t.before(async () => {
  api = await startTestApiServer();
  ({ client } = api);
});

t.teardown(() => api.stop());

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
};

const hpa: KubeObject = {
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'h', namespace: 'default' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 3 },
};

t.test('qualified resource names: plural, and the group outside the core group', async (t) => {
  t.equal(qualifiedResource('Pod'), 'pods');
  t.equal(qualifiedResource('Endpoints'), 'endpoints');
  t.equal(qualifiedResource('Deployment'), 'deployments.apps');
  t.equal(qualifiedResource('HorizontalPodAutoscaler'), 'horizontalpodautoscalers.autoscaling');
  t.equal(qualifiedResource('NetworkPolicy'), 'networkpolicies.networking.k8s.io');
  t.equal(qualifiedResource('StorageClass'), 'storageclasses.storage.k8s.io');
  t.equal(qualifiedResource('Lease'), 'leases.coordination.k8s.io');
});

t.test('the API server answers NotFound with the group-qualified resource', async (t) => {
  const missing = await rejects(client.get('Deployment', 'web', 'default'));
  t.equal(missing.reason, Reason.NotFound);
  t.equal(missing.message, 'deployments.apps "web" not found');
  t.equal((await rejects(client.delete('HorizontalPodAutoscaler', 'h', { namespace: 'default' }))).message, 'horizontalpodautoscalers.autoscaling "h" not found');
  t.equal((await rejects(client.get('StorageClass', 'gold'))).message, 'storageclasses.storage.k8s.io "gold" not found');
  t.equal((await rejects(client.get('Pod', 'x', 'default'))).message, 'pods "x" not found', 'core group: the plural alone');
});

t.test('AlreadyExists and Conflict name the resource the same way', async (t) => {
  const created = await client.create(deployment);
  await client.create(hpa);
  t.teardown(async () => {
    await client.delete('HorizontalPodAutoscaler', 'h', { namespace: 'default' }).catch(() => {});
    await client.delete('Deployment', 'web', { namespace: 'default' }).catch(() => {});
  });
  const exists = await rejects(client.create(hpa));
  t.equal(exists.reason, Reason.AlreadyExists);
  t.equal(exists.message, 'horizontalpodautoscalers.autoscaling "h" already exists');

  await client.update({ ...created, spec: { ...created.spec, replicas: 2 } });
  const stale = await rejects(client.update({ ...created, spec: { ...created.spec, replicas: 3 } }));
  t.equal(stale.reason, Reason.Conflict);
  t.equal(
    stale.message,
    'Operation cannot be fulfilled on deployments.apps "web": the object has been modified; please apply your changes to the latest version and try again',
  );
});

t.test('CLI commands that look the object up print what kubectl prints for a missing one', async (t) => {
  const env = { KUBEACT_NATS_URL: api.nats.url, KUBEACT_HOME: api.nats.dir };
  const cases: [string[], string][] = [
    [['scale', 'deployment/ghost', '--replicas=2'], 'Error from server (NotFound): deployments.apps "ghost" not found'],
    [['set', 'image', 'replicaset/ghost', 'c=busybox:1.37'], 'Error from server (NotFound): replicasets.apps "ghost" not found'],
    [['cordon', 'ghost'], 'Error from server (NotFound): nodes "ghost" not found'],
  ];
  for (const [args, stderr] of cases) {
    const res = await runCli(args, env, { timeoutMs: 90_000 });
    t.equal(res.code, 1, `kubeact ${args.join(' ')} fails`);
    t.equal(res.stderr.trim(), stderr, `kubeact ${args.join(' ')}`);
  }
});
