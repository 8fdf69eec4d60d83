/**
 * `kubeact inspect hpa/NAME`: the HorizontalPodAutoscaler controller hosts one actor per HPA
 * with inspector capture, and the CLI finds and prints its records (real nats-server, API
 * server, HPA controller and CLI process). Also: which kinds the CLI accepts.
 */
import t from 'tap';
import { parseInspectTarget } from '../nodes/cli/commands/inspect.js';
import { InspectCapture } from '../nodes/inspect/capture.js';
import { runCli } from '../nodes/shared/run-cli.js';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { startHpaController, type TestHpaController } from './helpers/hpa-controller.js';

let api: TestApiServer;
let capture: InspectCapture;
let hpaController: TestHpaController;

t.before(async () => {
  api = await startTestApiServer();
  capture = await InspectCapture.start(api.nc, 'control-plane');
  hpaController = await startHpaController(api, { syncPeriodMs: 60_000, inspect: capture });
});

t.teardown(async () => {
  await hpaController?.stop();
  await capture?.close();
  await api?.stop();
});

t.test('inspect accepts hpa (and the kinds with actors), refuses kinds without one', async (t) => {
  t.same(parseInspectTarget(['hpa/web'], undefined), { kind: 'HorizontalPodAutoscaler', namespace: 'default', name: 'web' });
  t.same(parseInspectTarget(['horizontalpodautoscaler', 'web'], 'prod'), { kind: 'HorizontalPodAutoscaler', namespace: 'prod', name: 'web' });
  t.same(parseInspectTarget(['node/node-1'], 'prod'), { kind: 'Node', name: 'node-1' });
  t.throws(() => parseInspectTarget(['svc/web'], undefined), {
    message: 'Service objects have no actor to inspect (Pod, ReplicaSet, Deployment, Node, HorizontalPodAutoscaler and the scheduler do)',
  });
});

t.test('kubeact inspect hpa/NAME prints the HPA actor: observed, applied, waiting for the next sync', async (t) => {
  await api.client.create({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'ghost', namespace: 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'ghost' }, minReplicas: 1, maxReplicas: 3 },
  });
  // The actor's first sync ends with a status write (AbleToScale False: the target is missing).
  await api.client.waitFor('HorizontalPodAutoscaler', 'ghost', 'default', (h) => Boolean(h?.status?.conditions), 30_000);
  capture.flush();
  const env = { KUBEACT_NATS_URL: api.nats.url, KUBEACT_HOME: api.nats.dir };
  let out = await runCli(['inspect', 'hpa/ghost'], env, { timeoutMs: 90_000 });
  // Records are published without waiting; the stream may not hold the last batch yet.
  const deadline = Date.now() + 30_000;
  while (!/^State:\s+Waiting /m.test(out.stdout) && Date.now() < deadline) out = await runCli(['inspect', 'hpa/ghost'], env, { timeoutMs: 90_000 });
  t.equal(out.code, 0, out.stderr);
  t.match(out.stdout, /^Name:\s+ghost$/m);
  t.match(out.stdout, /^Namespace:\s+default$/m);
  t.match(out.stdout, /^Kind:\s+HorizontalPodAutoscaler$/m);
  t.match(out.stdout, /^Process:\s+control-plane$/m);
  t.match(out.stdout, /^Machine:\s+hpa$/m);
  t.match(out.stdout, /^State:\s+Waiting \(active, for /m);
  const rows = out.stdout
    .split('\n')
    .filter((l) => /^\d\d:\d\d:\d\d\.\d{3}\s+horizontalpodautoscaler\s/.test(l))
    .map((l) => l.split(/\s{2,}/).slice(2));
  t.same(
    rows,
    [
      ['xstate.init', '-', 'Observing'],
      ['xstate.done.actor.observe', 'Observing', 'Applying'],
      ['xstate.done.actor.apply', 'Applying', 'Waiting'],
    ],
    'Observing → Applying → Waiting',
  );
});
