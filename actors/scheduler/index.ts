export * from './predicates.js';
export * from './scoring.js';
export * from './machine.js';
