/** Flags of the kubeact daemons (`--name value` or `--name=value`). */
import { parseArgs } from 'node:util';

export function daemonArgs<T extends Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>>(options: T) {
  return parseArgs({ args: process.argv.slice(2), options, allowPositionals: false, strict: true }).values;
}

/** An on/off flag's value: anything but off/false/0/no (any case) is on. */
export function isOn(v: string): boolean {
  return !['off', 'false', '0', 'no'].includes(v.toLowerCase());
}
