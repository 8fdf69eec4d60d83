export * from './types.js';
export * from './match.js';
export * from './plan.js';
