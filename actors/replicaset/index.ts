export * from './reconcile.js';
export * from './machine.js';
