export * from './cidr.js';
export * from './decide.js';
export * from './policies.js';
export * from './identity.js';
