/**
 * The inspector end to end on a real cluster: a pod's actor is captured on its node, the web
 * inspector (in Debian's headless Chromium, driven by playwright-core) lists it, draws its
 * statechart with the current state highlighted, steps back through its history and updates
 * live when the pod is deleted; `kubeact inspect` prints the known transitions of the pod;
 * `kubeact events` shows its Events.
 */
import t from 'tap';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import type { KubeObject } from '../protocol/objects.js';
import { podMachine } from '../actors/pod/machine.js';
import { startCluster, waitForObject, type TestCluster } from './helpers/cluster.js';

const CHROMIUM = '/usr/bin/chromium';
const POD = 'watched';

let cluster: TestCluster;
let browser: Browser | undefined;

t.before(async () => {
  cluster = await startCluster({ nodes: 1, inspect: true });
});
t.teardown(async () => {
  await browser?.close().catch(() => {});
  await cluster?.stop();
});

function podRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((l) => /^\d\d:\d\d:\d\d\.\d{3}\s+pod\s/.test(l))
    .map((l) => l.split(/\s{2,}/));
}

t.test('web inspector in Chromium, kubeact inspect and events for one pod from start to deletion', async (t) => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: POD, namespace: 'default' },
    spec: { terminationGracePeriodSeconds: 5, containers: [{ name: 'web', image: 'busybox', command: ['sleep', '600'] }] },
  };
  await cluster.client.create(pod as KubeObject);
  await waitForObject(cluster.client, 'Pod', POD, 'default', (p) => (p as any)?.status?.phase === 'Running', 60_000);

  const web = await cluster.kubeact(['inspect', '--web']);
  t.equal(web.code, 0, web.stderr);
  const url = web.stdout.trim();
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'the URL is a local address');

  t.ok(existsSync(CHROMIUM), 'Debian chromium is installed');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
  const page = await browser.newPage();
  await page.goto(url);
  const item = `li.actor[data-key="Pod/default/${POD}"]`;
  // The list shows the pod under its kind, namespace and node, with its state.
  await page.waitForSelector(`${item} .state:text-is("Running")`, { timeout: 30_000 });
  t.ok(await page.$('li.actor[data-kind="Node"][data-name="node-1"]'), 'the node lifecycle actor is listed');
  t.ok(await page.$('li.actor[data-kind="Scheduler"]'), 'so is the scheduler');
  const groups = await page.$$eval('#actors h3', (hs) => hs.map((h) => h.textContent));
  t.ok(groups.includes('Pod · default · node-1'), `grouped by kind, namespace and node: ${groups}`);

  await page.click(item);
  await page.waitForSelector('svg#chart[data-machine="pod"] rect.active[data-state-id="pod.Running"]', { timeout: 30_000 });
  const states = await page.$$eval('svg#chart rect', (rs) => rs.map((r) => r.getAttribute('data-state-id')));
  // The machine's own top-level states, so the chart is checked against the machine as it is.
  const machineStates = Object.keys(podMachine.root.states).map((s) => `pod.${s}`);
  t.ok(machineStates.includes('pod.Running') && machineStates.includes('pod.Terminating'), `the pod machine's states: ${machineStates}`);
  t.same(states.sort(), machineStates.sort(), 'the statechart has every state of the pod machine');
  t.equal(await page.$$eval('svg#chart rect.active', (rs) => rs.length), 1, 'one state highlighted');
  t.match(await page.textContent('#why'), /container web: Running, restarts 0/, 'the why panel explains the container');
  t.match(await page.textContent('#log'), /xstate\.snapshot\.container:web\s*Pending\s*Running/, 'the transition log');

  // Step back to the first snapshot: the chart and the state show Pending.
  await page.$eval('#timeline', (el) => {
    (el as HTMLInputElement).value = '0';
    el.dispatchEvent(new Event('input'));
  });
  await page.waitForSelector('#current-state[data-state="Pending"]', { timeout: 10_000 });
  t.ok(await page.$('svg#chart rect.active[data-state-id="pod.Pending"]'), 'history: Pending highlighted');
  // Back to live.
  await page.$eval('#timeline', (el) => {
    (el as HTMLInputElement).value = (el as HTMLInputElement).max;
    el.dispatchEvent(new Event('input'));
  });
  await page.waitForSelector('#current-state[data-state="Running"]', { timeout: 10_000 });

  // Delete the pod: the page follows without a reload.
  const del = await cluster.kubeact(['delete', 'pod', POD], { timeoutMs: 60_000 });
  t.equal(del.code, 0, del.stderr);
  await page.waitForSelector('#current-state[data-state="Terminated"]', { timeout: 30_000 });
  await page.waitForSelector('svg#chart rect.active[data-state-id="pod.Terminated"]', { timeout: 10_000 });
  await page.waitForSelector(`${item}.gone[data-status="done"]`, { timeout: 10_000 });
  t.match(await page.textContent('#log'), /DELETE\s*Running\s*Terminating/, 'the log shows the DELETE');
  t.pass('the page updated live when the pod was deleted');

  // The CLI replays the same history from the stream.
  const insp = await cluster.kubeact(['inspect', `pod/${POD}`]);
  t.equal(insp.code, 0, insp.stderr);
  t.match(insp.stdout, /^Name:\s+watched$/m);
  t.match(insp.stdout, /^Process:\s+node-1$/m);
  t.match(insp.stdout, /^State:\s+Terminated \(done, for /m);
  t.same(
    podRows(insp.stdout).map((r) => [r[2], r[3], r[4]]),
    [
      ['xstate.init', '-', 'Pending'],
      ['xstate.snapshot.container:web', 'Pending', 'Running'],
      ['DELETE', 'Running', 'Terminating'],
      ['xstate.snapshot.container:web', 'Terminating', 'Terminated (done)'],
    ],
    'the pod actor went Pending → Running → Terminating → Terminated',
  );
  t.match(insp.stdout, /container:web\s+STARTED\s+Waiting\.ContainerCreating\s+Running\.Started/, 'the container machine started');
  t.match(insp.stdout, /container:web\s+STOP\s+Running\.Started.*\s+Stopping/, 'and was stopped');

  const tail = await cluster.kubeact(['inspect', 'po', POD, '--tail', '2']);
  t.equal(tail.code, 0, tail.stderr);
  t.match(tail.stdout, /Transitions \(last 2 of \d+\):/);

  const none = await cluster.kubeact(['inspect', 'pod/nope']);
  t.equal(none.code, 1);
  t.equal(none.stderr.trim(), 'error: no inspection records for pod/nope in namespace default');
  const bad = await cluster.kubeact(['inspect', 'svc/x']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /Service objects have no actor to inspect/);

  const sched = await cluster.kubeact(['inspect', 'scheduler']);
  t.equal(sched.code, 0, sched.stderr);
  t.match(sched.stdout, /^Kind:\s+Scheduler$/m);

  // Events of the deleted pod are all still there (they do not expire), oldest first.
  const ev = await cluster.kubeact(['events', '--for', `pod/${POD}`]);
  t.equal(ev.code, 0, ev.stderr);
  const lines = ev.stdout.trim().split('\n');
  t.match(lines[0], /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
  const reasons = lines.slice(1).map((l) => l.split(/\s{2,}/)[2]);
  t.equal(reasons[0], 'Scheduled', `first the Scheduled Event: ${reasons}`);
  t.ok(reasons.includes('Started') && reasons.includes('Killing'), `Started and Killing: ${reasons}`);
  t.equal(reasons.at(-1), 'Killing');
});
