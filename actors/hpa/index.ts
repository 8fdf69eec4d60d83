export * from './behavior.js';
export * from './replicas.js';
export * from './decide.js';
export * from './machine.js';
