/**
 * What a CLI call loads before it runs its command: every test and user command pays it, and on
 * a loaded 2-core machine a second of start-up CPU is many seconds of wall time (an apply in an
 * e2e test printed nothing for 60 s at load 17). dockerode (with ssh2) was a third of that CPU,
 * pulled in by `down`'s Docker sweep; only a `down` of a cluster with Docker workers loads it now.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { entryPoint } from '../nodes/shared/paths.js';

/** The CommonJS modules under node_modules loaded by importing `file` in a fresh process. */
function packagesLoadedBy(file: string): string[] {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(file)});
    const cache = createRequire(import.meta.url).cache;
    const names = new Set(Object.keys(cache).map((k) => /node_modules\\/((@[^/]+\\/)?[^/]+)/.exec(k)?.[1]).filter(Boolean));
    process.stdout.write(JSON.stringify([...names]));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`importing ${file} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

t.test('the CLI loads neither dockerode nor ssh2 to run a command', async (t) => {
  const loaded = packagesLoadedBy(entryPoint('nodes/cli/main.js'));
  t.ok(loaded.includes('nats'), `the probe sees the CLI's packages (${loaded.join(', ')})`);
  t.notOk(loaded.includes('dockerode'), 'no dockerode');
  t.notOk(loaded.includes('ssh2'), 'no ssh2');
});
