export * from './balancer.js';
export * from './plan.js';
