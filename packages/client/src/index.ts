export * from './client.js';
export * from './state.js';
export * from './store.js';
export * from './license-state.js';
export type { LicenseDetails } from './license-details.js';
export * from './fingerprint.js';
export * from './events.js';
export * from './transport.js';
export * from './agent.js';
