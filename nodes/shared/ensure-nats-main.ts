#!/usr/bin/env node
/** `npm test` runs this first: installs nats-server once, before test files start in parallel. */
import { ensureNatsServer } from './nats-server.js';

try {
  const bin = ensureNatsServer((line) => console.log(line));
  console.log(`nats-server: ${bin}`);
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
