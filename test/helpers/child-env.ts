/**
 * Preloaded into every test process (package.json `tap.node-arg`): the processes a test spawns
 * (control planes, workers, every `kubeact` CLI call) start as they do for users, without tap's
 * process-info loader. tap puts that loader in NODE_OPTIONS and also re-adds it on every spawn
 * (a process-on-spawn listener). With coverage off it records nothing we read, yet it costs each
 * child start a module-hook thread: a CLI call took 0.48 s instead of 0.19 s (5 calls, quiet
 * machine), and twice the wall time under load.
 */
import processOnSpawn from 'process-on-spawn';

const LOADER = /@tapjs[\\/]processinfo/;

processOnSpawn.removeAllListeners();
const options = process.env.NODE_OPTIONS;
if (options && LOADER.test(options)) {
  // tap writes NODE_OPTIONS as space-separated, optionally quoted, arguments.
  const kept = (options.match(/"[^"]*"|\S+/g) ?? []).filter((arg) => !LOADER.test(arg));
  if (kept.length) process.env.NODE_OPTIONS = kept.join(' ');
  else delete process.env.NODE_OPTIONS;
}
