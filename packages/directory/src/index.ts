export * from './ldap.js';
export * from './objects.js';
