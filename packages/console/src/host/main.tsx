import { start } from '../common/app.js';
import { Events } from './events.js';
import { Machines } from './machines.js';
import { Overview } from './overview.js';
import { Settings } from './settings.js';

start({
  title: 'console.hostTitle',
  sessionPath: '/api/session',
  loginHelp: 'console.loginHostHelp',
  pages: [
    { path: 'overview', title: 'console.page.overview', component: Overview },
    { path: 'machines', title: 'console.page.machines', component: Machines },
    { path: 'events', title: 'console.page.events', component: Events },
    { path: 'settings', title: 'console.page.settings', component: Settings },
  ],
});
