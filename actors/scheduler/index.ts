export * from './predicates.js';
export * from './scoring.js';
export * from './machine.js';
export * from './volumes.js';
export * from './node-info.js';
