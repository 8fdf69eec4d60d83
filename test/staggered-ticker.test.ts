/** The shared ticker of simulated nodes: one timer, jobs spread evenly over the period, once per period each, no pile-up. */
import t from 'tap';
import { StaggeredTicker, spreadOrder, type Every } from '../nodes/shared/staggered-ticker.js';

/** A hand-driven timer: `fire()` is one interval elapsing. */
function manualTimer() {
  const state = { fn: undefined as undefined | (() => void), ms: 0, starts: 0, cancels: 0 };
  const every: Every = (fn, ms) => {
    state.fn = fn;
    state.ms = ms;
    state.starts++;
    return () => {
      state.fn = undefined;
      state.cancels++;
    };
  };
  return { state, every, fire: () => state.fn?.() };
}

t.test('spreadOrder visits every slot once, halves first', async (t) => {
  t.same(spreadOrder(1), [0]);
  t.same(spreadOrder(4), [0, 2, 1, 3]);
  t.same(spreadOrder(8), [0, 4, 2, 6, 1, 5, 3, 7]);
  const ten = spreadOrder(10);
  t.same([...ten].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.same(ten.slice(0, 2), [0, 8], 'the second job goes far from the first');
});

t.test('each job runs once per period, and the jobs are spread over it', async (t) => {
  const timer = manualTimer();
  const ticker = new StaggeredTicker({ periodMs: 1000, slotMs: 100, every: timer.every });
  t.equal(ticker.slotMs, 100);
  const runs: number[][] = [];
  let tick = 0;
  for (let j = 0; j < 20; j++) ticker.add(() => (runs[j] ??= []).push(tick));
  t.equal(timer.state.starts, 1, 'one timer for every job');
  t.equal(timer.state.ms, 100);
  for (tick = 0; tick < 30; tick++) timer.fire(); // three periods
  for (let j = 0; j < 20; j++) {
    t.equal(runs[j].length, 3, `job ${j} ran once per period`);
    t.same([runs[j][1] - runs[j][0], runs[j][2] - runs[j][1]], [10, 10], `job ${j}: a period apart`);
  }
  const perSlot = new Map<number, number>();
  for (const r of runs) perSlot.set(r[0], (perSlot.get(r[0]) ?? 0) + 1);
  t.same([...perSlot.values()], Array(10).fill(2), '20 jobs over 10 slots: 2 in each');
});

t.test('jobs added one at a time do not bunch up', async (t) => {
  const timer = manualTimer();
  const ticker = new StaggeredTicker({ periodMs: 800, slotMs: 100, every: timer.every });
  const firstRun: number[] = [];
  let tick = 0;
  for (let j = 0; j < 4; j++) ticker.add(() => (firstRun[j] ??= tick));
  for (tick = 0; tick < 8; tick++) timer.fire();
  t.same(firstRun, [0, 4, 2, 6], 'four jobs land a quarter period apart');
});

t.test('runNow runs a job at once as well as in its slot', async (t) => {
  const timer = manualTimer();
  const ticker = new StaggeredTicker({ periodMs: 300, slotMs: 100, every: timer.every });
  let n = 0;
  ticker.add(() => n++, { runNow: true });
  t.equal(n, 1);
  for (let i = 0; i < 3; i++) timer.fire();
  t.equal(n, 2);
});

t.test('a job still running skips its turn instead of piling up', async (t) => {
  const timer = manualTimer();
  const ticker = new StaggeredTicker({ periodMs: 100, slotMs: 100, every: timer.every });
  let started = 0;
  let finish!: () => void;
  ticker.add(() => {
    started++;
    return new Promise<void>((r) => (finish = r));
  });
  timer.fire();
  timer.fire();
  timer.fire();
  t.equal(started, 1, 'turns while in flight are skipped');
  finish();
  await new Promise((r) => setImmediate(r));
  timer.fire();
  t.equal(started, 2, 'runs again once finished');
});

t.test('a failing job is reported and keeps its place', async (t) => {
  const timer = manualTimer();
  const errors: string[] = [];
  const ticker = new StaggeredTicker({ periodMs: 100, slotMs: 100, every: timer.every, onError: (e) => errors.push((e as Error).message) });
  let calls = 0;
  ticker.add(() => {
    calls++;
    throw new Error('sync boom');
  });
  ticker.add(() => Promise.reject(new Error('async boom')));
  timer.fire();
  await new Promise((r) => setImmediate(r));
  timer.fire();
  await new Promise((r) => setImmediate(r));
  t.equal(calls, 2);
  t.same(errors, ['sync boom', 'async boom', 'sync boom', 'async boom']);
});

t.test('removing the last job stops the timer; adding one starts it again', async (t) => {
  const timer = manualTimer();
  const ticker = new StaggeredTicker({ periodMs: 200, slotMs: 100, every: timer.every });
  let a = 0;
  let b = 0;
  const removeA = ticker.add(() => a++);
  const removeB = ticker.add(() => b++);
  t.equal(ticker.size, 2);
  removeA();
  timer.fire();
  timer.fire();
  t.same([a, b], [0, 1], 'a removed job no longer runs');
  removeB();
  t.equal(ticker.size, 0);
  t.equal(timer.state.cancels, 1, 'timer cancelled with no jobs left');
  ticker.add(() => a++);
  t.equal(timer.state.starts, 2);
});

t.test('the default slot is a hundredth of the period, at least 10 ms, and a bad period is refused', async (t) => {
  const every: Every = () => () => {};
  t.equal(new StaggeredTicker({ periodMs: 10_000, every }).slotMs, 100);
  t.equal(new StaggeredTicker({ periodMs: 500, every }).slotMs, 10);
  t.equal(new StaggeredTicker({ periodMs: 5, every }).slotMs, 5);
  t.throws(() => new StaggeredTicker({ periodMs: 0, every }), RangeError);
});

t.test('with the real timer, jobs run on their own', async (t) => {
  const ticker = new StaggeredTicker({ periodMs: 20, slotMs: 10 });
  const done = new Promise<void>((resolve) => {
    let n = 0;
    ticker.add(() => {
      if (++n === 3) resolve();
    });
  });
  await done;
  ticker.stop();
  t.pass('a job ran three times');
});

t.test('a timer firing late runs every slot due since, and reports how late each job ran', async (t) => {
  const timer = manualTimer();
  let clock = 0;
  const late: number[] = [];
  const ticker = new StaggeredTicker({ periodMs: 400, slotMs: 100, every: timer.every, now: () => clock, onLate: (ms) => late.push(ms) });
  const runs: string[] = [];
  for (const name of ['a', 'b', 'c', 'd']) ticker.add(() => runs.push(name)); // slots 0, 2, 1, 3
  clock = 100;
  timer.fire();
  t.same(runs, ['a'], 'on time: one slot');
  t.same(late, [0]);
  clock = 450; // the event loop was busy: the slots due at 200, 300 and 400 are behind
  timer.fire();
  t.same(runs, ['a', 'c', 'b', 'd'], 'every slot due since ran, in order, and no more');
  t.same(late, [0, 250, 150, 50], 'each against its own due time');
  clock = 460;
  timer.fire();
  t.same(runs.length, 4, 'a timer firing early runs nothing before its due time (500): the rate stays fixed');
  clock = 500;
  timer.fire();
  t.same(runs.at(-1), 'a', 'the next period starts on time');
  t.same(late.at(-1), 0);
});
