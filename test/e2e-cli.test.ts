/**
 * End to end through the CLI, as a user types it, against a real 3-node `kubeact up`
 * (nats-server, control plane, workers and their containers as OS processes). One cluster
 * for the whole file; each test uses its own pods. The last test takes the cluster down
 * with `kubeact down` and checks that nothing it started is left running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import YAML from 'yaml';
import type { Event, KubeObject, Pod } from '../protocol/objects.js';
import { API_SERVICE_NAME } from '../protocol/subjects.js';
import { contextPath, isAlive, loadContext } from '../nodes/launcher/context.js';
import { PACKAGE_ROOT } from '../nodes/shared/paths.js';
import { CLI_MAIN } from '../nodes/shared/run-cli.js';
import { startCluster } from './helpers/cluster.js';

const cluster = await startCluster({ nodes: 3, workerArgs: ['--backoff-initial-ms', '200'] });
t.teardown(cluster.stop);
const { client, kubeact } = cluster;

const tmp = mkdtempSync(path.join(os.tmpdir(), 'kubeact-e2e-cli-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------
// helpers

type Manifest = Record<string, any>;

/** A pod whose one container runs `argv` on the host. */
function pod(name: string, argv: string[], extra: { labels?: Record<string, string>; env?: Record<string, string>; namespace?: string } = {}): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(extra.namespace ? { namespace: extra.namespace } : {}), labels: extra.labels ?? { suite: 'e2e-cli' } },
    spec: {
      terminationGracePeriodSeconds: 10,
      containers: [
        {
          name: 'main',
          image: 'kubeact/host:1.0',
          command: argv,
          ...(extra.env ? { env: Object.entries(extra.env).map(([k, v]) => ({ name: k, value: v })) } : {}),
        },
      ],
    },
  };
}

const sleeper = (name: string, labels?: Record<string, string>) => pod(name, ['sleep', '3600'], { labels });

/** A node script as a container: `node -e <script>`. */
const nodeScript = (name: string, script: string, env?: Record<string, string>) => pod(name, ['node', '-e', script], { env });

function yamlDocs(...docs: Manifest[]): string {
  return docs.map((d) => YAML.stringify(d, { lineWidth: 0 })).join('---\n');
}

function writeManifest(rel: string, ...docs: Manifest[]): string {
  const p = path.join(tmp, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, yamlDocs(...docs));
  return p;
}

function waitRunning(name: string, namespace = 'default', timeoutMs = 60_000): Promise<Pod | undefined> {
  return client.waitFor<Pod & KubeObject>('Pod', name, namespace, (p) => p?.status?.phase === 'Running', timeoutMs);
}

/** Splits a kubectl table into rows of cells, by the header's column starts. */
function parseTable(text: string): Record<string, string>[] {
  const lines = text.split('\n').filter((l) => l.trim());
  const header = lines[0];
  const cols = [...header.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], start: m.index! }));
  return lines.slice(1).map((line) => {
    const row: Record<string, string> = {};
    cols.forEach((c, i) => (row[c.name] = line.slice(c.start, cols[i + 1]?.start ?? line.length).trim()));
    return row;
  });
}

/** A CLI process left running in the background (`get -w`, `logs -f`), read as it prints. */
interface Background {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once `done(stdout)` holds; rejects at the deadline or when the process ends first. */
  waitUntil(done: (stdout: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Resolves once stdout matches. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` (if still running) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

function background(args: string[]): Background {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: { ...process.env, KUBEACT_HOME: cluster.home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  child.stdout!.on('data', (d) => ((out += d), notify()));
  child.stderr!.on('data', (d) => ((err += d), notify()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exitCode = code;
      notify();
      resolve(code);
    }),
  );
  const bg: Background = {
    child,
    stdout: () => out,
    stderr: () => err,
    waitUntil(predicate, what, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (predicate(out)) done(resolve);
          else if (exitCode !== undefined) done(() => reject(new Error(`kubeact ${args.join(' ')} exited (${exitCode}) before printing ${what}\nstdout: ${out}\nstderr: ${err}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`kubeact ${args.join(' ')} did not print ${what} within ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`))), timeoutMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    waitForOutput(re, timeoutMs) {
      return bg.waitUntil((o) => re.test(o), String(re), timeoutMs);
    },
    async stop(signal = 'SIGINT') {
      if (exitCode === undefined) child.kill(signal);
      return exited;
    },
  };
  t.teardown(async () => {
    if (exitCode === undefined) child.kill('SIGKILL');
    await exited;
  });
  return bg;
}

/** Resolves once `file` exists (inotify on its folder, with a deadline); write it with a rename. */
function waitForFile(file: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(path.dirname(file), () => check());
    const timer = setTimeout(() => finish(new Error(`${file} did not appear within ${timeoutMs} ms`)), timeoutMs);
    const finish = (e?: Error) => {
      clearTimeout(timer);
      watcher.close();
      if (e) reject(e);
      else resolve();
    };
    const check = () => existsSync(file) && finish();
    check();
  });
}

/** GET http://ip:port/path, retried (the server may still be binding) until it answers or the deadline. */
async function httpGet(url: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return await res.text();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 50)); // retry interval of a connection attempt, not a synchronisation
    }
  }
}

/** Resolves with the first Event of `reason` about the pod (watching Events, with a deadline). */
async function waitForEvent(podName: string, reason: string, timeoutMs = 15_000): Promise<Event> {
  let resolve!: (e: Event) => void;
  const found = new Promise<Event>((r) => (resolve = r));
  const w = await client.watch<Event & KubeObject>('Event', { namespace: 'default', fieldSelector: `involvedObject.name=${podName}` }, (ev) => {
    if (ev.type !== 'DELETED' && ev.object.reason === reason) resolve(ev.object);
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      found,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${reason} event for pod ${podName} within ${timeoutMs} ms`)), timeoutMs))),
    ]);
  } finally {
    clearTimeout(timer);
    w.stop();
  }
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// The HTTP pod of the playground: serves on its pod IP, logs each request.
const HELLO_FILE = path.join(PACKAGE_ROOT, 'playground/manifests/hello-pod.yaml');

// ---------------------------------------------------------------------------------------
// tests

t.test('apply -f: a file, a folder, stdin, multi-document YAML; unchanged; configured', async (t) => {
  const single = writeManifest('apply/single.yaml', sleeper('a-file'));
  const r1 = await kubeact(['apply', '-f', single]);
  t.equal(r1.code, 0, r1.stderr);
  t.equal(r1.stdout, 'pod/a-file created\n');

  // A folder: every .yaml/.yml/.json in it, in name order; other files are not manifests.
  writeManifest('apply/folder/1-first.yaml', sleeper('b-dir-1'));
  writeManifest('apply/folder/2-second.yml', sleeper('b-dir-2'));
  writeFileSync(path.join(tmp, 'apply/folder/notes.txt'), 'not a manifest: {{{');
  const r2 = await kubeact(['apply', '-f', path.join(tmp, 'apply/folder')]);
  t.equal(r2.code, 0, r2.stderr);
  t.equal(r2.stdout, 'pod/b-dir-1 created\npod/b-dir-2 created\n');

  // stdin, two documents in one stream.
  const stream = yamlDocs(sleeper('c-stdin-1'), sleeper('c-stdin-2'));
  const r3 = await kubeact(['apply', '-f', '-'], { input: stream });
  t.equal(r3.code, 0, r3.stderr);
  t.equal(r3.stdout, 'pod/c-stdin-1 created\npod/c-stdin-2 created\n');

  // The same again: nothing to do.
  const again = await kubeact(['apply', '-f', single, '-f', path.join(tmp, 'apply/folder'), '-f', '-'], { input: stream });
  t.equal(again.code, 0, again.stderr);
  t.equal(again.stdout, ['pod/a-file unchanged', 'pod/b-dir-1 unchanged', 'pod/b-dir-2 unchanged', 'pod/c-stdin-1 unchanged', 'pod/c-stdin-2 unchanged', ''].join('\n'));

  // A changed label: configured, and stored.
  const before = await client.get('Pod', 'a-file', 'default');
  writeManifest('apply/single.yaml', sleeper('a-file', { suite: 'e2e-cli', tier: 'changed' }));
  const r4 = await kubeact(['apply', '-f', single]);
  t.equal(r4.code, 0, r4.stderr);
  t.equal(r4.stdout, 'pod/a-file configured\n');
  const after = await client.get('Pod', 'a-file', 'default');
  t.same(after.metadata?.labels, { suite: 'e2e-cli', tier: 'changed' }, 'the new label is stored');
  t.equal(after.metadata?.uid, before.metadata?.uid, 'the same pod, updated in place');

  const pods = await client.list('Pod', { namespace: 'default', labelSelector: 'suite=e2e-cli' });
  t.same(
    pods.items.map((p) => p.metadata?.name),
    ['a-file', 'b-dir-1', 'b-dir-2', 'c-stdin-1', 'c-stdin-2'],
  );
});

let hello: Pod;

t.test('get: tables, wide, yaml, json, name, selectors, all namespaces, nodes', async (t) => {
  const [r, ns] = await Promise.all([kubeact(['apply', '-f', HELLO_FILE]), kubeact(['create', 'namespace', 'e2e-other'])]);
  t.equal(r.stdout, 'pod/hello created\n', r.stderr);
  t.equal(ns.stdout, 'namespace/e2e-other created\n', ns.stderr);
  await client.create({ ...sleeper('elsewhere'), metadata: { name: 'elsewhere', namespace: 'e2e-other' } });
  hello = (await waitRunning('hello'))!;
  await waitRunning('elsewhere', 'e2e-other');
  const podIP = hello.status!.podIP!;
  const nodeName = hello.spec!.nodeName!;
  t.match(podIP, /^127\./, 'a loopback pod IP');

  t.test('get pods', async (t) => {
    const [res, everything] = await Promise.all([kubeact(['get', 'pods', '-l', 'app=hello']), kubeact(['get', 'pods'])]);
    t.equal(res.code, 0, res.stderr);
    t.match(res.stdout.split('\n')[0], /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    const rows = parseTable(res.stdout);
    t.equal(rows.length, 1);
    t.match(rows[0], { NAME: 'hello', READY: '1/1', STATUS: 'Running', RESTARTS: '0' });
    const all = parseTable(everything.stdout).map((row) => row.NAME);
    t.ok(all.includes('hello') && all.includes('a-file'), 'the default namespace');
    t.notOk(all.includes('elsewhere'), 'not other namespaces');
  });

  t.test('-o wide: IP and NODE', async (t) => {
    const res = await kubeact(['get', 'pods', 'hello', '-o', 'wide']);
    t.equal(res.code, 0, res.stderr);
    const [row] = parseTable(res.stdout);
    t.match(row, { NAME: 'hello', STATUS: 'Running', IP: podIP, NODE: nodeName, 'NOMINATED NODE': '<none>', 'READINESS GATES': '<none>' });
  });

  t.test('-o yaml and -o json', async (t) => {
    const [y, j, l] = await Promise.all([
      kubeact(['get', 'pod', 'hello', '-o', 'yaml']),
      kubeact(['get', 'pod', 'hello', '-o', 'json']),
      kubeact(['get', 'pods', '-l', 'suite=e2e-cli', '-o', 'json']),
    ]);
    t.equal(y.code, 0, y.stderr);
    const fromYaml = YAML.parse(y.stdout);
    t.match(fromYaml, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'hello', namespace: 'default', labels: { app: 'hello' } }, spec: { nodeName }, status: { phase: 'Running', podIP } });
    t.equal(j.code, 0, j.stderr);
    const fromJson = JSON.parse(j.stdout);
    t.equal(fromJson.status.phase, 'Running');
    t.equal(fromJson.metadata.uid, hello.metadata?.uid);
    const list = JSON.parse(l.stdout);
    t.equal(list.kind, 'List');
    t.same(
      list.items.map((p: Pod) => p.metadata?.name),
      ['a-file', 'b-dir-1', 'b-dir-2', 'c-stdin-1', 'c-stdin-2'],
    );
  });

  t.test('-o name and -l', async (t) => {
    const [hello1, rest, nodes, none] = await Promise.all([
      kubeact(['get', 'pods', '-o', 'name', '-l', 'app=hello']),
      kubeact(['get', 'pods', '-o', 'name', '-l', 'suite=e2e-cli,tier!=changed']),
      kubeact(['get', 'no', '-o', 'name']),
      kubeact(['get', 'pods', '-l', 'app=nothing-has-this']),
    ]);
    t.equal(hello1.stdout, 'pod/hello\n');
    t.equal(rest.stdout, 'pod/b-dir-1\npod/b-dir-2\npod/c-stdin-1\npod/c-stdin-2\n');
    t.equal(nodes.stdout, 'node/node-1\nnode/node-2\nnode/node-3\n');
    t.equal(none.code, 0);
    t.equal(none.stdout, '');
    t.equal(none.stderr, 'No resources found in default namespace.\n');
  });

  t.test('-A shows NAMESPACE', async (t) => {
    const res = await kubeact(['get', 'pods', '-A']);
    t.equal(res.code, 0, res.stderr);
    t.match(res.stdout.split('\n')[0], /^NAMESPACE\s+NAME\s+READY\s+STATUS/);
    const rows = parseTable(res.stdout);
    t.match(rows.find((row) => row.NAME === 'elsewhere'), { NAMESPACE: 'e2e-other', STATUS: 'Running' });
    t.match(rows.find((row) => row.NAME === 'hello'), { NAMESPACE: 'default', STATUS: 'Running' });
  });

  t.test('get nodes: 3 Ready', async (t) => {
    const res = await kubeact(['get', 'nodes']);
    t.equal(res.code, 0, res.stderr);
    const rows = parseTable(res.stdout);
    t.same(
      rows.map((row) => [row.NAME, row.STATUS]),
      [
        ['node-1', 'Ready'],
        ['node-2', 'Ready'],
        ['node-3', 'Ready'],
      ],
    );
  });

  t.test('get po,no: both tables', async (t) => {
    const res = await kubeact(['get', 'po,no']);
    t.equal(res.code, 0, res.stderr);
    const [pods, nodes] = res.stdout.split('\n\n');
    t.match(pods, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    t.match(pods, /^hello\s+1\/1\s+Running\s/m);
    t.match(nodes, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
    t.equal(parseTable(nodes).length, 3);
  });

  t.test('a missing name: NotFound, exit 1', async (t) => {
    const res = await kubeact(['get', 'pods', 'nope']);
    t.equal(res.code, 1);
    t.equal(res.stdout, '');
    t.equal(res.stderr, 'Error from server (NotFound): pods "nope" not found\n');
  });
});

t.test('get pods -w prints a row per change as a new pod goes through its phases', async (t) => {
  const w = background(['get', 'pods', '-w']);
  await w.waitForOutput(/^hello\s+1\/1\s+Running\s/m);
  // The initial table is printed before the watch starts: touch an existing pod until its
  // change is printed, so the watch is known to be live before the new pod is created.
  const helloRows = (o: string) => o.match(/^hello\s/gm)?.length ?? 0;
  for (let i = 0; ; i++) {
    const before = helloRows(w.stdout());
    await client.modify('Pod', 'hello', 'default', (p) => {
      p.metadata!.annotations = { ...p.metadata!.annotations, 'e2e.kubeact.io/poke': String(i) };
    });
    const printed = await w.waitUntil((o) => helloRows(o) > before, 'a new row for pod hello', 2000).then(
      () => true,
      () => false,
    );
    if (printed) break;
    if (i >= 5) throw new Error(`the watch printed nothing for 6 changes of pod hello:\n${w.stdout()}`);
  }

  await client.create(sleeper('watched'));
  await w.waitForOutput(/^watched\s+1\/1\s+Running\s+0\s/m, 20_000);
  const code = await w.stop('SIGINT');
  t.equal(code, 0, 'exits 0 on Ctrl-C');

  const lines = w.stdout().split('\n');
  t.match(lines[0], /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/, 'the header, once');
  t.equal(lines.filter((l) => l.startsWith('NAME')).length, 1);
  const statuses = lines.filter((l) => l.startsWith('watched ')).map((l) => l.split(/\s+/)[2]);
  t.equal(statuses[0], 'Pending', `the new pod first shows Pending: ${statuses.join(' → ')}`);
  t.equal(statuses.at(-1), 'Running');
  t.ok(statuses.length >= 3, `a row per change (created, scheduled, started...): ${statuses.join(' → ')}`);
  t.equal(w.stderr(), '');
});

t.test('describe pod and node', async (t) => {
  await waitForEvent('hello', 'Started');
  const res = await kubeact(['describe', 'pod', 'hello']);
  t.equal(res.code, 0, res.stderr);
  const out = res.stdout;
  const current = await client.get<Pod & KubeObject>('Pod', 'hello', 'default');
  t.match(out, /^Name:\s+hello$/m);
  t.match(out, new RegExp(`^Node:\\s+${current.spec!.nodeName}/${escape(current.status!.hostIP!)}$`, 'm'));
  t.match(out, new RegExp(`^IP:\\s+${escape(current.status!.podIP!)}$`, 'm'));
  t.match(out, /^Status:\s+Running$/m);
  t.match(out, /^ {4}State:\s+Running\n {6}Started:\s+\S/m, 'container state');
  t.match(out, /^ {4}Ready:\s+True$/m);
  t.match(out, /^ {4}Restart Count:\s+0$/m);
  t.match(out, /^Conditions:\n\s+Type\s+Status\n(\s+\w+\s+\w+\s*\n)+/m);
  t.match(out, /^\s+Ready\s+True\s*$/m);
  t.match(out, /^\s+PodScheduled\s+True\s*$/m);
  t.match(out, /^Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message$/m);
  t.match(out, new RegExp(`^\\s+Normal\\s+Scheduled\\s+\\S+\\s+default-scheduler\\s+Successfully assigned default/hello to ${current.spec!.nodeName}$`, 'm'));
  t.match(out, /^\s+Normal\s+Started\s+\S+\s+kubelet\s+Started container web$/m);

  const node = await kubeact(['describe', 'node', 'node-1']);
  t.equal(node.code, 0, node.stderr);
  t.match(node.stdout, /^Name:\s+node-1$/m);
  t.match(node.stdout, /^Capacity:\n\s+cpu:\s+\d+\n(\s+[\w-]+:\s+\S+\n)*\s+pods:\s+110$/m);
  t.match(node.stdout, /^Conditions:\n\s+Type\s+Status\s/m);
  t.match(node.stdout, /^\s+Ready\s+True\s+.*KubeletReady/m);
});

t.test('logs', async (t) => {
  const podIP = hello.status!.podIP!;

  t.test('logs shows the line of a request', async (t) => {
    const body = await httpGet(`http://${podIP}:8080/e2e-logs`);
    t.equal(body, `hello from pod hello (${podIP}) on ${hello.spec!.nodeName}\n`);
    const res = await kubeact(['logs', 'hello']);
    t.equal(res.code, 0, res.stderr);
    t.match(res.stdout, new RegExp(`^listening on ${escape(podIP)}:8080$`, 'm'));
    t.match(res.stdout, /^\S+ GET \/e2e-logs from 127\.\d+\.\d+\.\d+$/m);
  });

  t.test('logs -f streams a line written after it started', async (t) => {
    const f = background(['logs', '-f', 'hello']);
    await f.waitForOutput(/GET \/e2e-logs from/); // the stream is up (it starts at the beginning of the log)
    t.notMatch(f.stdout(), /\/e2e-follow/);
    await httpGet(`http://${podIP}:8080/e2e-follow`);
    await f.waitForOutput(/^\S+ GET \/e2e-follow from 127\.\d+\.\d+\.\d+$/m);
    t.equal(await f.stop('SIGINT'), 0, 'exits 0 on Ctrl-C');
    t.equal(f.stderr(), '');
  });

  t.test('logs --previous shows the output of the instance before the restart', async (t) => {
    const marker = path.join(tmp, 'crasher-ran-once');
    const script = [
      "const fs = require('fs');",
      'const marker = process.env.MARKER;',
      "if (!fs.existsSync(marker)) { fs.writeFileSync(marker, 'x'); console.log('first run: crashing'); process.exit(3); }",
      "console.log('second run: staying up');",
      'setInterval(() => {}, 1e6);',
    ].join('\n');
    await client.create(nodeScript('crasher', script, { MARKER: marker }));
    await client.waitFor<Pod & KubeObject>(
      'Pod',
      'crasher',
      'default',
      (p) => {
        const s = p?.status?.containerStatuses?.[0];
        return s?.restartCount === 1 && Boolean(s.state?.running);
      },
      20_000,
    );
    const [previous, current, table] = await Promise.all([kubeact(['logs', 'crasher', '--previous']), kubeact(['logs', 'crasher']), kubeact(['get', 'pod', 'crasher'])]);
    t.equal(previous.code, 0, previous.stderr);
    t.equal(previous.stdout, 'first run: crashing\n');
    t.equal(current.stdout, 'second run: staying up\n');
    const get = parseTable(table.stdout)[0];
    t.match(get, { STATUS: 'Running', RESTARTS: /^1 \(\S+ ago\)$|^1$/ });
  });

  t.test('logs of a pod with two containers needs -c', async (t) => {
    const duo = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'duo' },
      spec: {
        containers: ['a', 'b'].map((n) => ({ name: n, image: 'kubeact/host:1.0', command: ['sh', '-c', `echo from-${n}; exec sleep 3600`] })),
      },
    };
    await client.create(duo);
    await waitRunning('duo');
    const res = await kubeact(['logs', 'duo']);
    t.equal(res.code, 1);
    t.equal(res.stdout, '');
    t.match(res.stderr, /a container name must be specified for pod duo, choose one of: \[a b\]\n$/);
    await client.waitFor<Pod & KubeObject>('Pod', 'duo', 'default', (p) => Boolean(p?.status?.containerStatuses?.every((s: { ready: boolean }) => s.ready)));
    const b = await kubeact(['logs', 'duo', '-c', 'b']);
    t.equal(b.code, 0, b.stderr);
    t.equal(b.stdout, 'from-b\n');
  });
});

t.test('delete pod: graceful, and returns once the pod is gone', async (t) => {
  const dir = path.join(tmp, 'graceful');
  mkdirSync(dir);
  const script = [
    "const fs = require('fs');",
    'const dir = process.env.MARKER_DIR;',
    "process.on('SIGTERM', () => {",
    "  fs.writeFileSync(dir + '/sigterm', String(process.pid));",
    "  console.log('got SIGTERM');",
    "  setTimeout(() => { fs.writeFileSync(dir + '/exited', 'clean'); process.exit(0); }, 300);",
    '});',
    "fs.writeFileSync(dir + '/ready.tmp', String(process.pid));",
    "fs.renameSync(dir + '/ready.tmp', dir + '/ready');",
    'setInterval(() => {}, 1e6);',
  ].join('\n');
  await client.create(nodeScript('graceful', script, { MARKER_DIR: dir }));
  await waitRunning('graceful');
  await waitForFile(path.join(dir, 'ready')); // the SIGTERM handler is installed
  const pid = Number(readFileSync(path.join(dir, 'ready'), 'utf8'));
  t.ok(isAlive(pid), 'the container process runs');

  const started = Date.now();
  const res = await kubeact(['delete', 'pod', 'graceful']);
  const took = Date.now() - started;
  t.equal(res.code, 0, res.stderr);
  t.equal(res.stdout, 'pod "graceful" deleted\n');
  t.equal(await client.find('Pod', 'graceful'), undefined, 'the pod is gone when delete returns');
  t.equal(readFileSync(path.join(dir, 'sigterm'), 'utf8'), String(pid), 'the container got SIGTERM');
  t.equal(readFileSync(path.join(dir, 'exited'), 'utf8'), 'clean', 'and finished its own shutdown before the pod went away');
  t.notOk(isAlive(pid), 'the container process is gone');
  t.ok(took >= 300, `delete waited for the graceful stop (${took} ms)`);

  const missing = await kubeact(['delete', 'pod', 'graceful']);
  t.equal(missing.code, 1);
  t.equal(missing.stderr, 'Error from server (NotFound): pods "graceful" not found\n');
});

t.test('$SRV.PING finds the API server', async (t) => {
  const answers: { name: string; id: string; version: string }[] = [];
  for await (const a of await cluster.nc.services.client().ping(API_SERVICE_NAME)) answers.push(a);
  t.equal(answers.length, 1, 'one API server answers');
  t.match(answers[0], { name: API_SERVICE_NAME, type: 'io.nats.micro.v1.ping_response' });
  t.match(answers[0].id, /\S/);
});

t.test('kubeact up while a cluster runs: refused; kubeact down: nothing left; status: no cluster', async (t) => {
  const ctx = loadContext(cluster.home)!;
  t.ok(ctx, 'context.json is there');
  const second = await kubeact(['up', '--nodes', '1']);
  t.not(second.code, 0, 'non-zero exit');
  t.match(second.stderr, /^error: a cluster is already running \(nats:\/\/127\.0\.0\.1:\d+, started \S+\); run `kubeact down` first\n$/);
  for (const p of ctx.processes) t.ok(isAlive(p.pid), `${p.name} still runs`);
  t.same(loadContext(cluster.home), ctx, 'context.json untouched');

  // Every container process the workers run (their state files; `exit` marks one that ended).
  const containerPids: number[] = [];
  for (const p of ctx.processes.filter((p) => p.dataDir)) {
    const dir = path.join(p.dataDir!, 'containers');
    for (const f of readdirSync(dir)) {
      const state = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as { pid: number; exit?: unknown };
      if (!state.exit) containerPids.push(state.pid);
    }
  }
  const pods = await client.list<Pod & KubeObject>('Pod');
  const running = pods.items.flatMap((p) => p.status?.containerStatuses ?? []).filter((s) => s.state?.running).length;
  t.ok(running >= 10, `${running} containers run`);
  t.equal(containerPids.length, running, 'a state file for each running container');
  t.same(containerPids.filter((pid) => !isAlive(pid)), [], 'their processes are alive before down');

  const down = await kubeact(['down']);
  t.equal(down.code, 0, down.stderr);
  t.match(down.stdout, /kubeact cluster stopped\n$/);
  for (const p of ctx.processes) t.notOk(isAlive(p.pid), `${p.name} (pid ${p.pid}) is gone`);
  t.same(containerPids.filter(isAlive), [], 'no container process is left');
  const leftovers = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(cluster.home);
      } catch {
        return false;
      }
    });
  t.same(leftovers, [], `no process mentions ${cluster.home}`);
  t.notOk(existsSync(contextPath(cluster.home)), 'context.json removed');

  const [status, get] = await Promise.all([kubeact(['status']), kubeact(['get', 'pods'])]);
  t.equal(status.code, 1);
  t.equal(status.stdout, `no cluster is running (no context in ${cluster.home})\n`);
  t.equal(get.code, 1);
  t.match(get.stderr, /^error: no cluster found: start one with `kubeact up`/);
});
