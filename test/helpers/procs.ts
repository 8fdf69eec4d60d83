/** Processes seen through /proc, for tests that check what runs on the host. */
import fs from 'node:fs';

/** Whether `pid` runs: it exists and is not a zombie. */
export function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Running processes whose environment holds `KUBEACT_TEST_MARK=<mark>`, with their POD_NAME. */
export function processesMarked(mark: string): { pid: number; pod: string }[] {
  const needle = `KUBEACT_TEST_MARK=${mark}`;
  const out: { pid: number; pod: string }[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let env: string[];
    try {
      env = fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (env.includes(needle) && running(Number(name))) out.push({ pid: Number(name), pod: env.find((e) => e.startsWith('POD_NAME='))?.slice(9) ?? '' });
  }
  return out;
}
