export * from './host.js';
export * from './host-store.js';
export * from './http.js';
export * from './run-host.js';
export * from './cidr.js';
export * from './machine-counter.js';
export * from './activation-batch.js';
export * from './host-queries.js';
