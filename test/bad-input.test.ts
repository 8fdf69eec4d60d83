/**
 * Bad input gets a clear, typed error; nothing is stored; no process dies. One real 1-node
 * cluster (`kubeact up`), driven through the CLI (what a user types) and raw NATS requests
 * (what a broken or hostile client sends).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import YAML from 'yaml';
import { decode, encode } from '../protocol/codec.js';
import { ApiError, Reason } from '../protocol/errors.js';
import { KINDS, KIND_NAMES, type Kind } from '../protocol/kinds.js';
import type { Reply } from '../protocol/messages.js';
import type { KubeObject, Namespace } from '../protocol/objects.js';
import { API_VERBS, subjects } from '../protocol/subjects.js';
import { MAX_OBJECT_BYTES, TOTAL_ANNOTATION_SIZE_LIMIT } from '../protocol/validation/index.js';
import { isAlive } from '../nodes/launcher/context.js';
import { startCluster } from './helpers/cluster.js';

/** The assertions the helpers below use, on any (sub)test. */
type Assert = Pick<typeof t, 'ok' | 'same'>;

const cluster = await startCluster({ nodes: 1 });
t.teardown(cluster.stop);
const { client } = cluster;

const dir = mkdtempSync(path.join(os.tmpdir(), 'kubeact-bad-input-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Every stored object, by kind, as `namespace/name@resourceVersion`-free keys. */
async function storedNames(): Promise<Record<Kind, string[]>> {
  const out = {} as Record<Kind, string[]>;
  for (const kind of KIND_NAMES) {
    const list = await client.list(kind);
    out[kind] = list.items.map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`).sort();
  }
  return out;
}

async function noPodsStored(tt: Assert, what: string): Promise<void> {
  const pods = await client.list('Pod');
  tt.same(
    pods.items.map((p) => p.metadata?.name),
    [],
    `${what}: no pod stored`,
  );
}

function everyProcessAlive(tt: Assert): void {
  for (const p of cluster.ctx.processes) tt.ok(isAlive(p.pid), `${p.name} (pid ${p.pid}) is still running`);
}

const POD_OK = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'ok' },
  spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }] },
};

t.test('the CLI rejects bad manifests with a clear error and stores nothing', async (t) => {
  t.test('invalid YAML: error parsing <file>, exit 1', async (t) => {
    const f = file('invalid.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: [a\nspec: {}\n');
    const r = await cluster.kubeact(['apply', '-f', f]);
    t.equal(r.code, 1, 'exit code 1');
    t.equal(r.stdout, '', 'nothing printed on stdout');
    t.match(r.stderr, new RegExp(`^error: error parsing ${escape(f)}: error converting YAML to JSON: yaml: line \\d+: `), r.stderr);
    await noPodsStored(t, 'invalid YAML');

    const viaStdin = await cluster.kubeact(['apply', '-f', '-'], { input: 'kind: Pod\n  metadata: : :\n\tname: x\n' });
    t.equal(viaStdin.code, 1, 'stdin: exit code 1');
    t.match(viaStdin.stderr, /^error: error parsing STDIN: error converting YAML to JSON: yaml: line \d+: /, viaStdin.stderr);
    await noPodsStored(t, 'invalid YAML on stdin');
  });

  t.test('unknown kind: no matches for kind "Frobnicator"', async (t) => {
    const f = file('frob.yaml', 'apiVersion: v1\nkind: Frobnicator\nmetadata:\n  name: frob\n');
    const r = await cluster.kubeact(['apply', '-f', f]);
    t.equal(r.code, 1);
    t.equal(r.stdout, '');
    t.match(r.stderr, `error: resource mapping not found for name: "frob" namespace: "" from "${f}": no matches for kind "Frobnicator" in version "v1"`);
    await noPodsStored(t, 'unknown kind');
  });

  t.test('a valid pod next to an unknown kind in one file: nothing is sent', async (t) => {
    const f = file('mixed.yaml', `${yamlOf(POD_OK)}---\napiVersion: v1\nkind: Frobnicator\nmetadata:\n  name: frob\n`);
    const r = await cluster.kubeact(['apply', '-f', f]);
    t.equal(r.code, 1);
    t.equal(r.stdout, '', 'no "pod/ok created"');
    t.match(r.stderr, 'no matches for kind "Frobnicator"');
    await noPodsStored(t, 'mixed file');
  });

  t.test('bad name', async (t) => {
    const f = file('badname.yaml', yamlOf({ ...POD_OK, metadata: { name: 'Bad_Name' } }));
    const r = await cluster.kubeact(['apply', '-f', f]);
    t.equal(r.code, 1);
    t.equal(r.stdout, '');
    t.match(r.stderr, /^The Pod "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/);
    await noPodsStored(t, 'bad name');
  });

  t.test('negative quantity', async (t) => {
    const pod = structuredClone(POD_OK) as any;
    pod.metadata.name = 'negcpu';
    pod.spec.containers[0].resources = { requests: { cpu: -1 } };
    const r = await cluster.kubeact(['create', '-f', file('negcpu.yaml', yamlOf(pod))]);
    t.equal(r.code, 1);
    t.equal(r.stdout, '');
    t.equal(r.stderr, 'The Pod "negcpu" is invalid: spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0\n');
    await noPodsStored(t, 'negative cpu');
  });

  t.test('wrong types', async (t) => {
    const f = file('types.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: types\nspec:\n  terminationGracePeriodSeconds: "soon"\n  containers: "nope"\n');
    const r = await cluster.kubeact(['apply', '-f', f]);
    t.equal(r.code, 1);
    t.equal(r.stdout, '');
    t.equal(
      r.stderr,
      [
        'The Pod "types" is invalid: ',
        '* spec.containers: Invalid value: "string": spec.containers in body must be of type array: "nope"',
        '* spec.terminationGracePeriodSeconds: Invalid value: "string": spec.terminationGracePeriodSeconds in body must be of type integer: "soon"',
        '',
      ].join('\n'),
    );
    await noPodsStored(t, 'wrong types');
  });

  t.test('five mistakes in one pod: all five field errors at once', async (t) => {
    const f = file(
      'five.yaml',
      [
        'apiVersion: v1',
        'kind: Pod',
        'metadata:',
        '  name: five',
        'spec:',
        '  restartPolicy: Sometimes',
        '  terminationGracePeriodSeconds: -5',
        '  containers:',
        '    - name: Web_1',
        '      image: ""',
        '      command: [sleep, "10"]',
        '      ports:',
        '        - containerPort: 70000',
        '',
      ].join('\n'),
    );
    const r = await cluster.kubeact(['apply', '-f', f]);
    t.equal(r.code, 1);
    t.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    t.equal(lines[0], 'The Pod "five" is invalid: ');
    const causes = lines.slice(1);
    t.equal(causes.length, 5, `five "* field: message" lines:\n${r.stderr}`);
    t.ok(causes.every((l) => l.startsWith('* ')), 'each cause on its own "* " line');
    const fields = causes.map((l) => l.slice(2, l.indexOf(': ')));
    t.same(fields.sort(), [
      'spec.containers[0].image',
      'spec.containers[0].name',
      'spec.containers[0].ports[0].containerPort',
      'spec.restartPolicy',
      'spec.terminationGracePeriodSeconds',
    ]);
    t.match(r.stderr, '* spec.containers[0].image: Required value');
    t.match(r.stderr, '* spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"');
    t.match(r.stderr, '* spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive');
    await noPodsStored(t, 'five mistakes');
  });

  t.test('the cluster is unharmed', async (t) => {
    everyProcessAlive(t);
  });
});

t.test('oversized objects', async (t) => {
  t.test('annotations over 256 KiB: Invalid, field error on metadata.annotations', async (t) => {
    const pod = structuredClone(POD_OK) as any;
    pod.metadata = { name: 'annotated', annotations: { 'example.com/blob': 'x'.repeat(300 * 1024) } };
    const r = await cluster.kubeact(['apply', '-f', file('annotated.json', JSON.stringify(pod))]);
    t.equal(r.code, 1);
    t.equal(r.stdout, '');
    t.equal(r.stderr, `The Pod "annotated" is invalid: metadata.annotations: Too long: may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT} bytes\n`);

    // 1.2 MB of annotation: still the field error (validation comes before the size check).
    pod.metadata.annotations['example.com/blob'] = 'x'.repeat(1_200_000);
    const err = await client.create(pod).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof ApiError, 'ApiError');
    t.equal((err as ApiError).reason, Reason.Invalid);
    t.same(
      (err as ApiError).causes.map((c) => c.field),
      ['metadata.annotations'],
    );
    await noPodsStored(t, 'big annotations');
  });

  t.test('an object over 1 MiB: RequestEntityTooLarge', async (t) => {
    const pod = structuredClone(POD_OK) as any;
    pod.metadata.name = 'huge';
    pod.spec.containers[0].args = Array.from({ length: 1200 }, (_, i) => `${i}:${'a'.repeat(1000)}`);
    const f = file('huge.json', JSON.stringify(pod)); // JSON: a big manifest parses fast
    const r = await cluster.kubeact(['apply', '-f', f]);
    t.equal(r.code, 1);
    t.equal(r.stdout, '');
    t.match(
      r.stderr,
      new RegExp(`^Error from server \\(RequestEntityTooLarge\\): error when applying "${escape(f)}": Pod "huge" is too large: \\d+ bytes, the limit is 1048576 bytes\\n$`),
      r.stderr,
    );

    const err = await client.create(pod).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof ApiError);
    t.equal((err as ApiError).reason, Reason.RequestEntityTooLarge);
    t.equal((err as ApiError).code, 413);
    t.ok(MAX_OBJECT_BYTES === 1024 * 1024);
    await noPodsStored(t, 'huge args');
  });

  t.test('a request larger than the NATS payload limit: a clear error, not a hang', async (t) => {
    const pod = structuredClone(POD_OK) as any;
    pod.metadata.name = 'enormous';
    pod.spec.containers[0].args = Array.from({ length: 5000 }, (_, i) => `${i}:${'b'.repeat(1000)}`);
    const f = file('enormous.json', JSON.stringify(pod));
    const r = await cluster.kubeact(['apply', '-f', f], { timeoutMs: 20_000 });
    t.equal(r.code, 1);
    t.equal(r.stdout, '');
    t.match(
      r.stderr,
      new RegExp(`^Error from server \\(RequestEntityTooLarge\\): error when applying "${escape(f)}": Request entity too large: the request is \\d+ bytes, the server accepts at most 4194304 bytes\\n$`),
      r.stderr,
    );
    const err = await client.create(pod).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.equal((err as ApiError)?.reason, Reason.RequestEntityTooLarge, 'ApiClient: RequestEntityTooLarge');
    await noPodsStored(t, 'enormous args');
  });

  t.test('the cluster is unharmed', async (t) => {
    everyProcessAlive(t);
  });
});

/** Bytes that are not msgpack: 0xc1 is the one code msgpack never uses, followed by noise. */
function garbageBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  out[0] = 0xc1;
  return out;
}

/** `{a:{a:{...}}}` nested `depth` levels, written as msgpack bytes directly. */
function deeplyNested(depth: number): Uint8Array {
  const unit = [0x81, 0xa1, 0x61]; // fixmap of 1 entry, key "a"
  const out = new Uint8Array(depth * unit.length + 1);
  for (let i = 0; i < depth; i++) out.set(unit, i * unit.length);
  out[out.length - 1] = 0xc0; // nil
  return out;
}

const WRONG_TYPES = {
  name: 42,
  namespace: ['default'],
  object: 'not an object',
  labelSelector: 5,
  fieldSelector: { a: 1 },
  gracePeriodSeconds: 'soon',
  preconditions: 7,
  nodeName: 9,
  pod: 3,
  container: [],
};

const PAYLOADS: { label: string; bytes: Uint8Array }[] = [
  { label: 'random bytes', bytes: garbageBytes(64, 0x5eed) },
  { label: 'more random bytes', bytes: garbageBytes(4096, 0xbad) },
  { label: 'empty payload', bytes: new Uint8Array(0) },
  { label: 'truncated msgpack (map16 header only)', bytes: Uint8Array.from([0xde, 0xff, 0xff]) },
  { label: 'msgpack number', bytes: encode(42) },
  { label: 'msgpack string', bytes: encode('hello') },
  { label: 'msgpack array', bytes: encode([1, 'two', { three: 3 }]) },
  { label: 'msgpack nil', bytes: encode(null) },
  { label: 'map with wrong field types', bytes: encode(WRONG_TYPES) },
  { label: 'deeply nested map (20k levels: overflows the decoder)', bytes: deeplyNested(20_000) },
  {
    label: 'huge nested structure',
    bytes: encode({ ...WRONG_TYPES, junk: Array.from({ length: 200 }, (_, i) => ({ i, deeper: Array.from({ length: 50 }, (_, j) => ({ j, s: 'x'.repeat(20) })) })) }),
  },
];

interface Outcome {
  subject: string;
  payload: string;
  reason?: string;
  code?: number;
  message?: string;
  problem?: string;
}

async function ask(subject: string, label: string, bytes: Uint8Array): Promise<Outcome> {
  const base = { subject, payload: label };
  try {
    // All 1,617 requests go out at once and the server answers them in arrival order; replies
    // leave when its event loop frees, so on a loaded 2-core machine the first ones wait for the
    // whole batch (147 decoder-overflowing payloads among them). The deadline is for "no hang".
    const msg = await cluster.nc.request(subject, bytes, { timeout: 20_000 });
    let reply: Reply<unknown>;
    try {
      reply = decode<Reply<unknown>>(msg.data);
    } catch (e) {
      return { ...base, problem: `undecodable reply: ${(e as Error).message}` };
    }
    if (!reply || typeof reply !== 'object') return { ...base, problem: `reply is not a map: ${JSON.stringify(reply)}` };
    if (reply.ok) return { ...base, problem: `answered ok: ${JSON.stringify(reply.value).slice(0, 200)}` };
    return { ...base, reason: reply.error?.reason, code: reply.error?.code, message: reply.error?.message };
  } catch (e) {
    return { ...base, problem: `no reply: ${(e as Error).message}` };
  }
}

t.test('garbage on every subject: a typed error reply to every request, nothing hangs, nothing dies', async (t) => {
  const before = await storedNames();
  const targets: string[] = [];
  for (const verb of API_VERBS) for (const kind of KIND_NAMES) targets.push(subjects.api(verb, KINDS[kind].plural));
  targets.push('kubeact.api.get.frobnicators', 'kubeact.api.list.frobnicators');
  targets.push(subjects.nodeLogs('node-1'));

  const outcomes = await Promise.all(targets.flatMap((subject) => PAYLOADS.map((p) => ask(subject, p.label, p.bytes))));
  t.equal(outcomes.length, targets.length * PAYLOADS.length, `${outcomes.length} requests sent`);
  const problems = outcomes.filter((o) => o.problem);
  t.same(problems, [], 'every request got a decodable error reply');
  const notBadRequest = outcomes.filter((o) => !o.problem && o.reason !== Reason.BadRequest);
  t.same(notBadRequest, [], 'every error is a BadRequest');
  t.ok(
    outcomes.every((o) => o.problem || (o.code === 400 && typeof o.message === 'string' && o.message.length > 0)),
    'code 400 and a message on each',
  );
  const sample = (subject: string, payload: string) => outcomes.find((o) => o.subject === subject && o.payload === payload)?.message;
  t.match(sample(subjects.api('create', 'pods'), 'random bytes'), /^cannot decode request on kubeact\.api\.create\.pods: /);
  t.equal(sample(subjects.api('get', 'pods'), 'msgpack number'), 'request on kubeact.api.get.pods must be a map');
  t.equal(sample(subjects.api('create', 'pods'), 'map with wrong field types'), 'request has no object: expected a map with apiVersion, kind, metadata');
  t.equal(sample(subjects.api('list', 'pods'), 'map with wrong field types'), 'labelSelector must be a string');
  t.equal(sample(subjects.api('bind', 'nodes'), 'map with wrong field types'), 'bind is only defined for pods');
  t.match(sample('kubeact.api.get.frobnicators', 'map with wrong field types'), 'the server could not find the requested resource "frobnicators"');
  t.match(sample(subjects.nodeLogs('node-1'), 'empty payload'), /^cannot decode logs request: /);
  t.equal(sample(subjects.nodeLogs('node-1'), 'map with wrong field types'), 'logs request needs a pod name');

  // Watch subjects are publish-only: garbage there must be ignored by every watcher.
  const watchSubjects: string[] = [];
  for (const kind of KIND_NAMES) {
    watchSubjects.push(subjects.watch(KINDS[kind].plural, KINDS[kind].namespaced ? 'default' : undefined, 'garbage'));
  }
  watchSubjects.push(subjects.watch('pods', 'default', 'garbage', 'node-1')); // what node-1's kubelet receives
  const forged = [
    { type: 5, object: 'x' },
    { type: 'ADDED', object: { metadata: 'x', spec: 5 } },
    { type: 'ADDED', object: { metadata: { name: 5, namespace: [], resourceVersion: '999999', uid: 7 }, spec: { nodeName: 'node-1', containers: 'nope' } } },
    { type: 'MODIFIED', object: { kind: 'Node', metadata: { name: 'node-1', resourceVersion: '999999' }, status: 'broken' } },
    { type: 'DELETED', object: { metadata: { name: null, resourceVersion: '999999' } } },
  ];
  for (const subject of watchSubjects) {
    for (const p of PAYLOADS) cluster.nc.publish(subject, p.bytes);
    for (const ev of forged) cluster.nc.publish(subject, encode(ev));
  }
  await cluster.nc.flush();

  // A round trip through every process that got the garbage: the API server answers,
  // the kubelet serves logs (NotFound for a pod that does not exist).
  const nodes = await cluster.kubeact(['get', 'nodes']);
  t.equal(nodes.code, 0, `kubeact get nodes still works: ${nodes.stderr}`);
  t.match(nodes.stdout, /^node-1\s+Ready\s/m);
  const logs = await client.logs('node-1', { namespace: 'default', pod: 'nope' }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.equal((logs as ApiError)?.reason, Reason.NotFound, 'the kubelet still serves logs requests');
  everyProcessAlive(t);
  t.same(await storedNames(), before, 'no object was stored or removed');

  // The scheduler and the kubelet ignored the forged events: a real pod is still scheduled and run.
  const apply = await cluster.kubeact(['apply', '-f', '-'], { input: yamlOf({ ...POD_OK, metadata: { name: 'after-garbage' } }) });
  t.equal(apply.stdout, 'pod/after-garbage created\n');
  const running = await client.waitFor('Pod', 'after-garbage', 'default', (p) => p?.status?.phase === 'Running', 15_000);
  t.equal(running?.spec?.nodeName, 'node-1', 'scheduled to node-1 and running');
  const del = await cluster.kubeact(['delete', 'pod', 'after-garbage']);
  t.equal(del.stdout, 'pod "after-garbage" deleted\n');
  t.equal(await client.find('Pod', 'after-garbage'), undefined);
});

t.test('an update with a stale resourceVersion: Conflict, the stored object unchanged', async (t) => {
  const created = await client.create<Namespace & KubeObject>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cas-test', labels: { step: 'created' } } });
  t.teardown(() => client.delete('Namespace', 'cas-test').catch(() => {}));
  const stale = created.metadata!.resourceVersion!;
  const updated = await client.update({ ...created, metadata: { ...created.metadata, labels: { step: 'updated' } } });
  t.not(updated.metadata!.resourceVersion, stale, 'the first update moved the resourceVersion');

  const err = await client.update({ ...created, metadata: { ...created.metadata, resourceVersion: stale, labels: { step: 'stale' } } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(err instanceof ApiError, 'ApiError');
  t.equal((err as ApiError).reason, Reason.Conflict);
  t.equal((err as ApiError).code, 409);
  t.equal(
    (err as ApiError).message,
    'Operation cannot be fulfilled on namespaces "cas-test": the object has been modified; please apply your changes to the latest version and try again',
  );

  const statusErr = await client.updateStatus({ ...created, metadata: { ...created.metadata, resourceVersion: stale }, status: { phase: 'Terminating' } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.equal((statusErr as ApiError)?.reason, Reason.Conflict, 'updateStatus with a stale resourceVersion: Conflict');

  const deleteErr = await client.delete('Namespace', 'cas-test', { preconditions: { resourceVersion: stale } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.equal((deleteErr as ApiError)?.reason, Reason.Conflict, 'delete with a stale resourceVersion precondition: Conflict');

  const stored = await client.get('Namespace', 'cas-test');
  t.same(stored, updated, 'the stored object is the one of the first update, unchanged');
  t.equal(stored.metadata?.labels?.step, 'updated');
});

function yamlOf(obj: unknown): string {
  return YAML.stringify(obj, { lineWidth: 0 });
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
