import t from 'tap';
import { ManifestError, loadManifests, parseManifests, sourceOf } from '../nodes/cli/manifests.js';

const noStdin = async () => {
  throw new Error('stdin must not be read');
};

const POD_A = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n  - name: c\n    image: nginx\n';
const POD_B = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\nspec:\n  containers:\n  - name: c\n    image: nginx\n';
const NS = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n';

// Manifests live in a temp dir (removed at teardown); paths are relative to it, as a user types them.
const dir = t.testdir({
  'pod.yaml': POD_A,
  'multi.yaml': `# leading comment\n---\n${NS}---\n---\n# only a comment\n---\n${POD_A}---\n${POD_B}`,
  'list.yaml': `apiVersion: v1\nkind: List\nitems:\n- ${NS.trim().replace(/\n/g, '\n  ')}\n- ${POD_A.trim().replace(/\n/g, '\n  ')}\n`,
  'podlist.json': JSON.stringify({ apiVersion: 'v1', kind: 'PodList', metadata: {}, items: [{ metadata: { name: 'from-list' }, spec: { containers: [] } }] }),
  'pod.json': JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'j' } }, null, 2),
  'stream.json': '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"s1"}}\n{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"s2"}}\n',
  'lease.yaml': 'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: l\n  namespace: kube-node-lease\nspec:\n  holderIdentity: node-1\n',
  'empty.yaml': '',
  'bad-syntax.yaml': 'apiVersion: v1\nkind: Pod\nmetadata: name: x\n',
  'bad-tab.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n',
  'dup.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  name: y\n',
  'bad-json.json': '{\n  "apiVersion": "v1",\n  "kind": "Pod"\n  "metadata": {}\n}\n',
  'nokind.yaml': 'apiVersion: v1\nmetadata:\n  name: x\n',
  'noversion.yaml': 'kind: Pod\nmetadata:\n  name: x\n',
  'frob.yaml': 'apiVersion: v1\nkind: Frobnicator\nmetadata:\n  name: x\n',
  'wrong-group.yaml': 'apiVersion: apps/v1\nkind: Pod\nmetadata:\n  name: y\n  namespace: prod\n',
  'scalar.yaml': 'just a string\n',
  'seq.yaml': '- apiVersion: v1\n  kind: Pod\n',
  'second-bad.yaml': `${POD_A}---\napiVersion: v1\nkind: Widget\nmetadata:\n  name: w\n`,
  folder: {
    'b.yaml': POD_B,
    'a.yml': NS,
    'c.json': JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'c' } }),
    'notes.txt': 'not a manifest',
    'README.md': '# nope',
    sub: { 'deep.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: deep\n' },
  },
  'bad-folder': { 'ok.yaml': NS, 'zz-bad.yaml': 'apiVersion: v1\nkind: Gadget\nmetadata:\n  name: g\n' },
});

const cwd = process.cwd();
process.chdir(dir);
t.teardown(() => process.chdir(cwd));

const names = (objs: Array<{ kind?: string; metadata?: { name?: string } }>) => objs.map((o) => `${o.kind}/${o.metadata?.name}`);

async function failure(sources: string[], stdin: () => Promise<string> = noStdin): Promise<ManifestError> {
  try {
    await loadManifests(sources, stdin);
  } catch (e) {
    if (e instanceof ManifestError) return e;
    throw e;
  }
  throw new Error(`expected ${sources.join(',')} to fail`);
}

t.test('a single file', async (t) => {
  const objs = await loadManifests(['pod.yaml'], noStdin);
  t.same(names(objs), ['Pod/a']);
  t.equal(objs[0].spec.containers[0].image, 'nginx');
  t.equal(sourceOf(objs[0]), 'pod.yaml', 'remembers where an object came from');
});

t.test('multi-document YAML skips empty documents, keeps file order', async (t) => {
  t.same(names(await loadManifests(['multi.yaml'], noStdin)), ['Namespace/team', 'Pod/a', 'Pod/b']);
  t.same(await loadManifests(['empty.yaml'], noStdin), [], 'an empty file has no objects');
});

t.test('kind: List and typed lists are expanded', async (t) => {
  t.same(names(await loadManifests(['list.yaml'], noStdin)), ['Namespace/team', 'Pod/a']);
  const [item] = await loadManifests(['podlist.json'], noStdin);
  t.equal(item.kind, 'Pod', 'item kind taken from PodList');
  t.equal(item.apiVersion, 'v1');
});

t.test('JSON: one object or a stream', async (t) => {
  t.same(names(await loadManifests(['pod.json'], noStdin)), ['Pod/j']);
  t.same(names(await loadManifests(['stream.json'], noStdin)), ['Namespace/s1', 'Namespace/s2']);
  t.same(names(await loadManifests(['lease.yaml'], noStdin)), ['Lease/l'], 'grouped apiVersion');
});

t.test('a folder: its manifest files, sorted, not recursive unless asked', async (t) => {
  t.same(names(await loadManifests(['folder'], noStdin)), ['Namespace/team', 'Pod/b', 'Pod/c']);
  t.same(names(await loadManifests(['folder'], noStdin, { recursive: true })), ['Namespace/team', 'Pod/b', 'Pod/c', 'Namespace/deep']);
  const objs = await loadManifests(['folder'], noStdin);
  t.equal(sourceOf(objs[0]), 'folder/a.yml');
});

t.test('stdin and several sources, in order', async (t) => {
  let reads = 0;
  const stdin = async () => {
    reads++;
    return `${NS}---\n${POD_B}`;
  };
  const objs = await loadManifests(['pod.yaml', '-', 'pod.json'], stdin);
  t.same(names(objs), ['Pod/a', 'Namespace/team', 'Pod/b', 'Pod/j']);
  t.equal(sourceOf(objs[1]), 'STDIN');
  t.equal(reads, 1);
  const e = await failure(['-'], async () => 'apiVersion: v1\nkind: Thing\nmetadata:\n  name: t\n');
  t.equal(e.message, 'error: resource mapping not found for name: "t" namespace: "" from "STDIN": no matches for kind "Thing" in version "v1"');
});

t.test('YAML syntax errors: kubectl wording, with the line', async (t) => {
  let e = await failure(['bad-syntax.yaml']);
  t.equal(e.message, 'error: error parsing bad-syntax.yaml: error converting YAML to JSON: yaml: line 3: mapping values are not allowed in this context');
  e = await failure(['bad-tab.yaml']);
  t.equal(e.message, 'error: error parsing bad-tab.yaml: error converting YAML to JSON: yaml: line 4: found character that cannot start any token');
  e = await failure(['dup.yaml']);
  t.equal(e.message, 'error: error parsing dup.yaml: error converting YAML to JSON: yaml: line 5: key "name" already set in map');
  e = await failure(['bad-json.json']);
  t.match(e.message, /^error: error parsing bad-json\.json: json: line 4: /);
});

t.test('a path that does not exist', async (t) => {
  const e = await failure(['nope.yaml']);
  t.equal(e.message, 'error: the path "nope.yaml" does not exist');
  t.same(e.problems, ['the path "nope.yaml" does not exist']);
});

t.test('missing kind or apiVersion', async (t) => {
  let e = await failure(['nokind.yaml']);
  t.equal(e.message, `error: unable to decode "nokind.yaml": Object 'Kind' is missing in '{"apiVersion":"v1","metadata":{"name":"x"}}'`);
  e = await failure(['noversion.yaml']);
  t.equal(e.message, `error: unable to decode "noversion.yaml": Object 'apiVersion' is missing in '{"kind":"Pod","metadata":{"name":"x"}}'`);
});

t.test('unknown kinds (or a known kind in another version)', async (t) => {
  let e = await failure(['frob.yaml']);
  t.equal(e.message, 'error: resource mapping not found for name: "x" namespace: "" from "frob.yaml": no matches for kind "Frobnicator" in version "v1"');
  e = await failure(['wrong-group.yaml']);
  t.equal(e.message, 'error: resource mapping not found for name: "y" namespace: "prod" from "wrong-group.yaml": no matches for kind "Pod" in version "apps/v1"');
});

t.test('a document that is not a map', async (t) => {
  let e = await failure(['scalar.yaml']);
  t.match(e.message, /^error: unable to decode "scalar\.yaml": expected an object with apiVersion and kind, but the document is a string/);
  e = await failure(['seq.yaml']);
  t.match(e.message, /^error: unable to decode "seq\.yaml": .* is a list/);
});

t.test('every problem is reported, and nothing is returned, when any object is wrong', async (t) => {
  // The first document is fine: the Widget after it still fails the whole load.
  let e = await failure(['second-bad.yaml']);
  t.same(e.problems, ['resource mapping not found for name: "w" namespace: "" from "second-bad.yaml": no matches for kind "Widget" in version "v1"']);
  e = await failure(['pod.yaml', 'frob.yaml', 'nope.yaml', 'bad-folder', 'bad-syntax.yaml']);
  t.equal(e.problems.length, 4);
  t.match(e.problems[0], /from "frob\.yaml"/);
  t.match(e.problems[1], /"nope\.yaml" does not exist/);
  t.match(e.problems[2], /from "bad-folder\/zz-bad\.yaml": no matches for kind "Gadget"/);
  t.match(e.problems[3], /^error parsing bad-syntax\.yaml/);
  t.equal(e.message.split('\n').length, 4, 'one line per problem');
  t.ok(e.message.split('\n').every((l) => l.startsWith('error: ')));
});

t.test('parseManifests is pure', async (t) => {
  const r = parseManifests('apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n---\nkind: Pod\n', 'mem.yaml');
  t.same(names(r.objects), ['Namespace/x']);
  t.same(r.problems, [`unable to decode "mem.yaml": Object 'apiVersion' is missing in '{"kind":"Pod"}'`]);
});
