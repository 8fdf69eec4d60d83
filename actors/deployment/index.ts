export * from './hash.js';
export * from './rollout.js';
export * from './plan.js';
export * from './machine.js';
