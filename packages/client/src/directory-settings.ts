import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { VolactError } from '@volact/protocol';
import type { DirectoryTarget } from '@volact/directory';
// the URL check alone: joining a directory must not load the LDAP client
import { checkLdapUrl } from '@volact/directory/ldap-url';
import { ensureDir, loadLicense, writeOrFail, type ClientState } from './state.js';
import type { ClientStore } from './store.js';

export type DirectoryJoin = {
  urls: string[];
  base: string;
  bindDn: string;
  password: string;
  ca?: string;
  allowPlainBind?: boolean;
};

/** The directory settings as a connection target (password and CA from their files). */
export function directoryTarget(dir: string, s: ClientState): DirectoryTarget {
  if (!s.directory) throw new VolactError('DIRECTORY_NOT_CONFIGURED');
  const read = (name: string) => {
    const file = join(dir, name);
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new VolactError('STATE_CORRUPT', { file, detail: (err as NodeJS.ErrnoException).code ?? String(err) });
    }
  };
  const { urls, base, bindDn, allowPlainBind } = s.directory;
  return {
    urls,
    base,
    bindDn,
    allowPlainBind,
    password: read('directory.secret').replace(/\r?\n$/, ''),
    ...(s.directory.ca ? { ca: read('directory-ca.pem') } : {}),
  };
}

/** Leaves the directory: the settings first, then the files (a directory license no longer verifies without the membership anyway). */
function leaveDirectory(store: ClientStore): ClientState {
  const s = store.state;
  s.directory = null;
  s.directoryNote = null;
  s.directoryReadAt = null;
  store.save();
  let license;
  try {
    license = loadLicense(store.dir);
  } catch {
    license = undefined;
  }
  if (license && 'directory' in license) store.saveLicense(null);
  rmSync(join(store.dir, 'directory.secret'), { force: true });
  rmSync(join(store.dir, 'directory-ca.pem'), { force: true });
  return s;
}

/**
 * `volact client directory`: joins this machine to a directory (its servers, any replica; its
 * suffix; its machine account, whose password is kept 0600). null leaves the directory.
 */
export function setDirectory(store: ClientStore, settings: DirectoryJoin | null): ClientState {
  const s = store.state;
  const dir = store.dir;
  ensureDir(dir);
  if (settings === null) return leaveDirectory(store);
  if (settings.urls.length === 0 || settings.urls.length > 16)
    throw new VolactError('USAGE', { detail: 'give 1 to 16 directory URLs' });
  for (const url of settings.urls) checkLdapUrl(url);
  if (!settings.base.trim() || !settings.bindDn.trim() || settings.base.length > 512 || settings.bindDn.length > 1024)
    throw new VolactError('USAGE', {
      detail: 'give the directory suffix (--ldap-base) and the machine account DN (--bind-dn)',
    });
  if (!settings.password)
    throw new VolactError('USAGE', {
      detail: 'the password file is empty; an empty password would be an anonymous bind',
    });
  writeOrFail(dir, join(dir, 'directory.secret'), settings.password, 0o600);
  if (settings.ca) writeOrFail(dir, join(dir, 'directory-ca.pem'), settings.ca, 0o644);
  else rmSync(join(dir, 'directory-ca.pem'), { force: true });
  if (s.directory && (s.directory.base !== settings.base || s.directory.bindDn !== settings.bindDn)) {
    // another directory or another account: an activation read as the old one no longer counts
    s.directoryReadAt = null;
    s.directoryNote = null;
  }
  s.directory = {
    urls: settings.urls,
    base: settings.base,
    bindDn: settings.bindDn,
    allowPlainBind: Boolean(settings.allowPlainBind),
    ca: Boolean(settings.ca),
  };
  store.save();
  return s;
}
