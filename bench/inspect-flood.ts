/**
 * `node dist/bench/inspect-flood.js`: does a flood of inspection events slow the control plane?
 * One process holds a real API server (on its own nats-server) and a flood of busy actors
 * (each transitions as fast as the event loop lets it), in alternate rounds without and with
 * the inspector's capture. API create latency is measured in both; the figure is the median of
 * the per-pair ratios of p50 (and p99), captured over uncaptured, so machine noise cancels.
 * The quiet latency (no actors at all) is printed for scale.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'nats';
import { createActor, createMachine } from 'xstate';
import { ApiServer } from '../nodes/apiserver/server.js';
import { InspectCapture } from '../nodes/inspect/capture.js';
import { startNatsServer } from '../nodes/shared/nats-server.js';
import { silentLogger } from '../nodes/shared/logger.js';
import { ApiClient } from '../protocol/client.js';
import type { KubeObject } from '../protocol/objects.js';
import { now } from './pace.js';
import { percentile } from './stats.js';

const PAIRS = Number(process.env.FLOOD_PAIRS ?? 4);
const CREATES = Number(process.env.FLOOD_CREATES ?? 150);
const ACTORS = Number(process.env.FLOOD_ACTORS ?? 50);

/** A machine with a context the size of a small pod's, cycling through three states. */
const cycler = createMachine({
  id: 'cycler',
  initial: 'A',
  context: { pod: { metadata: { name: 'p', labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1'] }] } }, n: 0 },
  states: { A: { on: { NEXT: 'B' } }, B: { on: { NEXT: 'C' } }, C: { on: { NEXT: 'A' } } },
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubeact-bench-flood-'));
  const nats = await startNatsServer({ dir });
  const nc = await connect({ servers: nats.url, name: 'bench-flood' });
  const api = new ApiServer({ nc, logger: silentLogger() });
  await api.start();
  const clientNc = await connect({ servers: nats.url, name: 'bench-flood-client' });
  const client = new ApiClient(clientNc);
  const capture = await InspectCapture.start(nc, 'control-plane');
  let n = 0;
  const round = async (label: string): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < CREATES; i++) {
      const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `flood-${label}-${n++}` } } as KubeObject;
      const t0 = now();
      await client.create(ns);
      out.push(now() - t0);
    }
    return out;
  };
  const flooded = async (inspect: boolean): Promise<{ samples: number[]; records: number; dropped: number; seconds: number }> => {
    const actors = Array.from({ length: ACTORS }, (_, i) => createActor(cycler, inspect ? { inspect: capture.observer({ kind: 'Pod', namespace: 'flood', name: `a-${i}` }) } : {}).start());
    let running = true;
    const published0 = capture.published;
    const dropped0 = capture.dropped;
    const pump = () => {
      if (!running) return;
      for (const a of actors) a.send({ type: 'NEXT' });
      setImmediate(pump);
    };
    const t0 = now();
    setImmediate(pump);
    const samples = await round('flood');
    running = false;
    const seconds = (now() - t0) / 1000;
    for (const a of actors) a.stop();
    capture.flush();
    return { samples, records: capture.published - published0, dropped: capture.dropped - dropped0, seconds };
  };
  try {
    await round('warmup');
    const p50: number[] = [];
    const p99: number[] = [];
    let rate = 0;
    let dropped = 0;
    const quiet = await round('quiet');
    for (let pair = 0; pair < PAIRS; pair++) {
      // Swap the order every pair so a trend in machine load does not favour one side.
      const plainFirst = pair % 2 === 0;
      const a = plainFirst ? await flooded(false) : undefined;
      const f = await flooded(true);
      const plain = a ?? (await flooded(false));
      p50.push(percentile(f.samples, 50) / percentile(plain.samples, 50));
      p99.push(percentile(f.samples, 99) / percentile(plain.samples, 99));
      rate += f.records / f.seconds / PAIRS;
      dropped += f.dropped;
      console.log(
        `pair ${pair + 1}: flood without capture p50 ${percentile(plain.samples, 50).toFixed(2)} ms, with capture ${percentile(f.samples, 50).toFixed(2)} ms; ` +
          `${Math.round(f.records / f.seconds)} records/s captured, ${f.dropped} dropped`,
      );
    }
    console.log(`API create latency, no actors: p50 ${percentile(quiet, 50).toFixed(2)} ms`);
    console.log(`API create latency beside ${ACTORS} flooding actors, with capture (~${Math.round(rate)} records/s, ${dropped} dropped) over without:`);
    console.log(`  p50 ratio ${median(p50).toFixed(3)}x, p99 ratio ${median(p99).toFixed(3)}x (median of ${PAIRS} pairs of ${CREATES} creates)`);
  } finally {
    await capture.close();
    await clientNc.close();
    await api.stop();
    await nc.close();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
