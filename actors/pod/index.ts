export * from './types.js';
export * from './backoff.js';
export * from './status.js';
export * from './container.js';
export * from './probe.js';
export * from './machine.js';
