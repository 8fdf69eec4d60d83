export * from './machine.js';
export * from './disruption.js';
