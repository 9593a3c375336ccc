export * from './ldap-url.js';
export * from './ldap.js';
export * from './objects.js';
export * from './admin.js';
