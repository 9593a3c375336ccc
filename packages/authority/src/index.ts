export * from './authority.js';
export * from './catalog.js';
export * from './keys.js';
export * from './store.js';
export * from './kysely-store.js';
export * from './db/open.js';
export * from './http.js';
export * from './run-authority.js';
