/** Where the compiled entry points are, whether we run from dist/ or from sources (tests). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('kubeact: package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export const PACKAGE_ROOT = packageRoot();

/** Absolute path of a compiled file, e.g. `entryPoint('nodes/worker/main.js')`. */
export function entryPoint(relative: string): string {
  return path.join(PACKAGE_ROOT, 'dist', relative);
}
