import { start } from '../common/app.js';
import { Audit } from './audit.js';
import { Catalog } from './catalog.js';
import { Keys } from './keys.js';
import { Offline } from './offline.js';
import { Requests } from './requests.js';
import { Tokens } from './tokens.js';

start({
  title: 'console.authorityTitle',
  sessionPath: '/v1/console/session',
  loginHelp: 'console.loginAuthorityHelp',
  pages: [
    { path: 'catalog', title: 'console.page.catalog', component: Catalog },
    { path: 'keys', title: 'console.page.keys', component: Keys },
    { path: 'requests', title: 'console.page.requests', component: Requests },
    { path: 'offline', title: 'console.page.offline', component: Offline, public: true },
    { path: 'audit', title: 'console.page.audit', component: Audit },
    { path: 'tokens', title: 'console.page.tokens', component: Tokens },
  ],
});
