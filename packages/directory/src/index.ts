export * from './ldap.js';
export * from './objects.js';
export * from './admin.js';
