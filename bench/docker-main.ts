/**
 * `npm run bench:docker`: pod startup on the docker runtime vs `docker run -d` (bench/docker.ts),
 * printed; skipped with the reason when no Docker engine answers.
 */
import { dockerBenchUnavailable, dockerLines, dockerStartupBench } from './docker.js';

const PAIRS = Number(process.env.KUBEACT_BENCH_DOCKER_PAIRS ?? 12);

async function main(): Promise<void> {
  const reason = await dockerBenchUnavailable();
  if (reason) {
    console.log(`docker bench skipped: ${reason}`);
    return;
  }
  const abort = new AbortController();
  process.on('SIGINT', () => abort.abort());
  process.on('SIGTERM', () => abort.abort());
  const r = await dockerStartupBench({ pairs: PAIRS, say: (l) => console.log(l), signal: abort.signal });
  console.log(dockerLines(r).join('\n'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
