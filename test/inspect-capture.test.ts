import t from 'tap';
import { assign, createActor, createMachine, fromPromise, setup, type InspectionEvent } from 'xstate';
import { InspectCapture } from '../nodes/inspect/capture.js';
import { machineGraph, toPlain, toRecord } from '../nodes/inspect/serialize.js';
import { ensureInspectStore, getMachineGraph, replayRecords } from '../nodes/inspect/store.js';
import { podMachine } from '../actors/pod/index.js';
import type { InspectRecord } from '../protocol/inspect.js';
import { subjects } from '../protocol/subjects.js';
import { startTestNats } from './helpers/nats.js';

/** A small machine with a child actor and an actor reference in its context. */
const bulb = setup({
  types: { context: {} as { switches: number; helper?: unknown; note: () => void }, events: {} as { type: 'ON' } | { type: 'OFF' } | { type: 'BREAK'; reason: string } },
  actors: { warmUp: fromPromise(async () => 'warm') },
}).createMachine({
  id: 'bulb',
  initial: 'Off',
  context: { switches: 0, note: () => {} },
  states: {
    Off: { on: { ON: { target: 'On', actions: assign({ switches: ({ context }) => context.switches + 1 }) } } },
    On: {
      entry: assign({ helper: ({ spawn }) => spawn('warmUp', { id: 'warm-up' }) }),
      on: { OFF: 'Off', BREAK: { target: 'Broken', guard: ({ context }) => context.switches > 0 } },
    },
    Broken: { type: 'final' },
  },
});

t.test('records are plain data: actor references become ids, functions vanish, JSON and msgpack agree', async (t) => {
  const events: InspectionEvent[] = [];
  let childDone!: () => void;
  const reported = new Promise<void>((r) => (childDone = r));
  const actor = createActor(bulb, {
    inspect: (e) => {
      events.push(e);
      if (e.type === '@xstate.event' && e.event.type === 'xstate.done.actor.warm-up') childDone();
    },
  });
  actor.start();
  actor.send({ type: 'ON' });
  await reported;
  const who = { process: 'node-1', kind: 'Pod', namespace: 'default', name: 'web', uid: 'u1' };
  const records = events.map((e) => toRecord(e, who, 1000)).filter((r): r is InspectRecord => !!r);
  const snap = records.find((r) => r.type === 'snapshot' && r.root && r.event?.type === 'ON')!;
  t.equal(snap.value, 'On');
  t.equal(snap.machine, 'bulb');
  t.same(snap.event, { type: 'ON' });
  t.same(snap.context, { switches: 1, helper: { actorRef: 'warm-up' } }, 'the spawned child is referred to by id; the function is gone');
  t.equal(snap.actor, 'node-1/Pod/default/web');
  t.same(JSON.parse(JSON.stringify(snap)), snap, 'survives JSON unchanged');
  const created = records.filter((r) => r.type === 'actor');
  t.same(created.map((r) => [r.actor, r.root, r.machine ?? null]), [
    ['node-1/Pod/default/web', true, 'bulb'],
    ['node-1/Pod/default/web/warm-up', false, null],
  ]);
  t.notOk(records.some((r) => r.type === 'snapshot' && !r.root), 'snapshots of promise actors (effect outputs) are not kept');
  const received = records.filter((r) => r.type === 'event' && r.root).map((r) => r.event!.type);
  t.ok(received.includes('ON'), 'the event received is recorded');
  t.ok(received.includes('xstate.done.actor.warm-up'), 'so is the child reporting back');
  const done = records.find((r) => r.type === 'event' && r.event!.type === 'xstate.done.actor.warm-up')!;
  t.equal(done.source, 'node-1/Pod/default/web/warm-up', 'with its source');
  actor.stop();
});

t.test('toPlain cuts what would not serialize or is too large', async (t) => {
  const cyclic: any = { a: 1 };
  cyclic.self = cyclic;
  const p = toPlain({ e: new Error('boom'), d: new Date(0), big: 'x'.repeat(5000), arr: Array.from({ length: 250 }, (_, i) => i), n: NaN, cyclic, m: new Map([['k', 1]]) }) as any;
  t.same(p.e, { error: 'Error', message: 'boom' });
  t.equal(p.d, '1970-01-01T00:00:00.000Z');
  t.equal(p.big.length, 4097);
  t.equal(p.arr.length, 201);
  t.equal(p.arr[200], '… 50 more');
  t.equal(p.n, 'NaN');
  t.same(p.m, { k: 1 });
  t.doesNotThrow(() => JSON.stringify(p), 'a cycle is cut at the depth limit');
});

t.test('the graph of a machine lists its states, initial state, transitions, guards and delays', async (t) => {
  const g = machineGraph(bulb);
  t.equal(g.id, 'bulb');
  t.equal(g.root.initial, 'Off');
  t.same(g.root.states.map((s) => [s.id, s.type]), [['bulb.Off', 'atomic'], ['bulb.On', 'atomic'], ['bulb.Broken', 'final']]);
  const on = g.root.states[1];
  t.same(on.transitions, [
    { event: 'OFF', targets: ['bulb.Off'] },
    { event: 'BREAK', targets: ['bulb.Broken'], guard: 'guard' },
  ]);
  const timer = createMachine({ id: 'timer', initial: 'A', states: { A: { after: { 500: 'B' } }, B: {} } });
  t.same(machineGraph(timer).root.states[0].transitions, [{ event: 'after 500', targets: ['timer.B'] }]);
  const pod = machineGraph(podMachine);
  t.same(pod.root.states.map((s) => s.key).sort(), Object.keys(podMachine.root.states).sort(), 'the pod machine: every state');
  t.doesNotThrow(() => JSON.stringify(pod));
});

t.test('captured records go to the stream in order, replay returns them, the graph is stored', async (t) => {
  const nats = await startTestNats();
  t.teardown(() => nats.stop());
  const nc = await nats.connect();
  const capture = await InspectCapture.start(nc, 'node-1', { flushMs: 5 });
  const actor = createActor(bulb, { inspect: capture.observer({ kind: 'Pod', namespace: 'default', name: 'web' }) });
  actor.start();
  actor.send({ type: 'ON' });
  actor.send({ type: 'OFF' });
  actor.send({ type: 'ON' });
  actor.send({ type: 'BREAK', reason: 'filament' });
  // another actor of another object, and garbage on a record subject: replay skips the garbage
  const other = createActor(bulb, { inspect: capture.observer({ kind: 'Pod', namespace: 'default', name: 'db' }) });
  other.start();
  nc.publish(subjects.inspectRecords('node-1', 'Pod', 'default', 'web'), new TextEncoder().encode('not msgpack {'));
  await capture.close();
  t.equal(capture.dropped, 0);

  const web: InspectRecord[] = [];
  await replayRecords(nc, (rs) => web.push(...rs), { filter: subjects.inspectRecordsOf('Pod', 'default', 'web') });
  const states = web.filter((r) => r.type === 'snapshot' && r.root).map((r) => `${r.event!.type}→${r.value}`);
  t.same(states, ['xstate.init→Off', 'ON→On', 'OFF→Off', 'ON→On', 'BREAK→Broken']);
  t.equal(web.filter((r) => r.type === 'snapshot' && r.root).at(-1)!.status, 'done');
  t.same(web.find((r) => r.event?.type === 'BREAK' && r.type === 'event')!.event, { type: 'BREAK', reason: 'filament' });
  t.ok(web.every((r) => r.name === 'web'), 'the filter keeps to one actor');

  const all: InspectRecord[] = [];
  await replayRecords(nc, (rs) => all.push(...rs));
  t.same([...new Set(all.map((r) => r.name))].sort(), ['db', 'web']);

  t.same(await getMachineGraph(nc, 'bulb'), machineGraph(bulb), 'the graph is in the bucket');
  t.equal(await getMachineGraph(nc, 'nope'), undefined);
});

t.test('replay of an empty history returns at once; follow delivers new records until aborted', async (t) => {
  const nats = await startTestNats();
  t.teardown(() => nats.stop());
  const nc = await nats.connect();
  await ensureInspectStore(nc);
  let n = 0;
  await replayRecords(nc, () => n++);
  t.equal(n, 0);

  const capture = await InspectCapture.start(nc, 'control-plane', { flushMs: 5 });
  const ac = new AbortController();
  const seen: string[] = [];
  let resolveSeen!: () => void;
  const gotBroken = new Promise<void>((r) => (resolveSeen = r));
  const following = replayRecords(
    nc,
    (rs) => {
      for (const r of rs) if (r.type === 'snapshot' && r.root) seen.push(String(r.value));
      if (seen.includes('Broken')) resolveSeen();
    },
    { follow: true, signal: ac.signal },
  );
  const actor = createActor(bulb, { inspect: capture.observer({ kind: 'Pod', namespace: 'default', name: 'web' }) });
  actor.start();
  actor.send({ type: 'ON' });
  actor.send({ type: 'BREAK', reason: 'x' });
  capture.flush();
  await Promise.race([gotBroken, new Promise((_, rej) => setTimeout(() => rej(new Error(`follow saw only ${seen}`)), 15_000).unref())]);
  ac.abort();
  await following;
  t.same(seen, ['Off', 'On', 'Broken']);
});

t.test('a full buffer drops records and counts them; the actor is not slowed or broken', async (t) => {
  const nats = await startTestNats();
  t.teardown(() => nats.stop());
  const nc = await nats.connect();
  const capture = new InspectCapture(nc, 'node-1', { maxBuffered: 5, flushMs: 60_000 });
  const actor = createActor(bulb, { inspect: capture.observer({ kind: 'Pod', namespace: 'default', name: 'web' }) });
  actor.start();
  for (let i = 0; i < 10; i++) actor.send({ type: i % 2 ? 'OFF' : 'ON' });
  t.equal(actor.getSnapshot().value, 'Off');
  t.equal(actor.getSnapshot().context.switches, 5, 'the actor went through every event');
  t.ok(capture.dropped > 0, `dropped ${capture.dropped}`);
  await capture.close();
  t.equal(capture.published, 5);
});
