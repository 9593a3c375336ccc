import { randomBytes } from 'node:crypto';
import {
  VolactError,
  catalogAnswerSchema,
  decodeKey,
  hostCertKind,
  hostActivationAnswerSchema,
  makeInstallationId,
  offlineHostCertificate,
  parseConfirmation,
  partialKey,
  verifyCatalog,
  verifyHostCert,
  type Catalog,
  type CertKind,
  type Clock,
  type Edition,
  type OfflineBundle,
  type Root,
} from '@volact/protocol';
import { callAuthority, getFromAuthority, type Get, type Post } from '@volact/io';
import type { HostStore, InstalledKey, Signed } from './host-store.js';

/** What HostActivation keeps: the host's store, or a hypervisor agent's with the same tables. */
export type ActivationStore = Pick<
  HostStore,
  'keys' | 'installKey' | 'removeKey' | 'newRequestId' | 'saveCertificate' | 'catalog' | 'saveCatalog'
>;

/** A host certificate in force, with what answers take from it. */
export type HostCertificate = {
  certificate: string;
  issuer: string;
  group: string;
  notAfter: number | null;
  hostId: string;
  /**
   * For the editions a newer catalog added to the certificate's group (not in its own list): that
   * catalog, which answers carry so clients can check the rule (editionCovered).
   */
  catalog?: Signed;
};

/** What `-upd-catalog` did: took a newer catalog, or found this serial already in force. */
export type CatalogUpdate = {
  outcome: 'updated' | 'current';
  serial: number;
  previous: number | null;
  /** Codes of the editions the host activates now and did not before. */
  added: string[];
};

/** What the authority answered for one key on `-ato`. */
export type KeyActivation = {
  id: string;
  group: string;
  hostsUsed: number;
  hostsLimit: number;
  activationsUsed: number;
  activationsLimit: number;
};

/**
 * The host's own activation: its host keys, the certificate of each (from the authority online, or
 * from a typed confirmation offline) and the catalog, all verified to the pinned roots. A
 * hypervisor agent is activated the same way with its datacenter keys (`kind`).
 */
export class HostActivation {
  // Filled in place, never replaced: Host took these maps once and reads them on every client request.
  /** Editions by setup key, from the catalog in force. */
  readonly bySetupKey = new Map<string, Edition>();
  /** The certificate that vouches for each edition number. */
  readonly certFor = new Map<number, HostCertificate>();
  private current: Catalog | undefined;

  constructor(
    private readonly store: ActivationStore,
    private readonly clock: Clock,
    private readonly roots: Root[],
    /** This host's public key (raw, base64url): what its certificates must name. */
    private readonly publicKey: string,
    /** The host's name as it is now, sent with each activation request. */
    private readonly hostName: () => string,
    /** The publisher's offline bundle, for offline activation (-dti / -atp) of an air-gapped host. */
    private readonly offlineBundle: OfflineBundle | undefined,
    /** Which certificate: a host's (host keys) or a hypervisor agent's (datacenter keys). */
    private readonly kind: CertKind = hostCertKind,
  ) {}

  /** The verified catalog in force, if any. */
  get catalog(): Catalog | undefined {
    return this.current;
  }

  /** Rebuilds the in-memory view (editions, certificates) from what is stored and verified. */
  load(): void {
    this.certFor.clear();
    this.bySetupKey.clear();
    const row = this.store.catalog();
    this.current = row ? verifyCatalog(row.jws, row.issuer, this.roots) : undefined;
    for (const e of this.current?.editions ?? []) this.bySetupKey.set(e.setupKey, e);
    const viaCatalog: [number, HostCertificate][] = [];
    for (const key of this.keys()) {
      if (!key.certificate || !key.issuer) continue;
      const { cert } = verifyHostCert(key.certificate, key.issuer, this.roots, this.clock.now(), this.kind);
      const certified: HostCertificate = {
        certificate: key.certificate,
        issuer: key.issuer,
        group: cert.group,
        notAfter: cert.notAfter,
        hostId: cert.hostId,
      };
      for (const e of cert.editions) if (!this.certFor.has(e.number)) this.certFor.set(e.number, certified);
      // The certificate binds the group; the catalog in force (never older than the one that came
      // with a certificate: certified() keeps the newer) says what the group holds now.
      const extra = this.groupEditions(cert.group).filter((n) => !cert.editions.some((e) => e.number === n));
      if (row && extra.length) {
        const withCatalog: HostCertificate = { ...certified, catalog: row };
        for (const n of extra) viaCatalog.push([n, withCatalog]);
      }
    }
    for (const [n, certified] of viaCatalog) if (!this.certFor.has(n)) this.certFor.set(n, certified);
  }

  /** The editions of a product group in the catalog in force that this kind of certificate covers. */
  private groupEditions(code: string): number[] {
    const group = this.current?.groups.find((g) => g.code === code);
    if (!group) return [];
    return this.current!.editions.filter((e) => group.editions.includes(e.number) && this.kind.covers(e)).map(
      (e) => e.number,
    );
  }

  /**
   * `-upd-catalog`: takes the publisher's signed catalog, from the authority (GET /v1/catalog, the
   * only thing sent) or as given from a file, and with it the editions it adds to the groups of
   * the certificates held. No activation is spent: a certificate binds its group and the catalog
   * says what the group holds. A catalog that does not verify to the pinned root, or is older
   * than the one in force, changes nothing; the same serial is already current.
   */
  async updateCatalog(offered: Signed | undefined, authority: string | null, get: Get): Promise<CatalogUpdate> {
    let signed = offered;
    if (!signed) {
      if (!authority)
        throw new VolactError('USAGE', {
          detail: `the ${this.kind.what} has no authority URL; give the catalog as a file: -upd-catalog FILE`,
        });
      const answer = await getFromAuthority(authority, '/v1/catalog', catalogAnswerSchema, get);
      signed = { jws: answer.catalog, issuer: answer.issuer };
    }
    const catalog = verifyCatalog(signed.jws, signed.issuer, this.roots);
    const ours = this.current?.serial ?? null;
    if (ours !== null && catalog.serial < ours)
      throw new VolactError('CATALOG_OLDER', { theirs: catalog.serial, ours });
    if (ours === catalog.serial) return { outcome: 'current', serial: ours, previous: ours, added: [] };
    const before = new Set(this.certFor.keys());
    this.store.saveCatalog(signed);
    this.load();
    const added = catalog.editions.filter((e) => this.certFor.has(e.number) && !before.has(e.number));
    return { outcome: 'updated', serial: catalog.serial, previous: ours, added: added.map((e) => e.code) };
  }

  keys(): InstalledKey[] {
    return this.store.keys();
  }

  /** `-ipk` on a host: installs a host key (one per product group; a new one replaces the old). */
  installKey(typed: string): { id: string; partial: string; group: number } {
    const key = decodeKey(typed);
    if (key.keyClass !== this.kind.keyClass)
      throw new VolactError('KEY_WRONG_CLASS', { actual: key.keyClass, expected: this.kind.keyClass });
    const id = `K${key.ref}-${partialKey(key.canonical)}`;
    this.store.installKey({
      id,
      productKey: key.canonical,
      partial: partialKey(key.canonical),
      groupNumber: key.ref,
      installedAt: this.clock.now(),
      requestId: randomBytes(16).toString('base64url'),
    });
    this.load();
    return { id, partial: partialKey(key.canonical), group: key.ref };
  }

  /** `-upk` on a host: removes a key by its ID or last five characters. */
  uninstallKey(which: string): number {
    const removed = this.store.removeKey(which);
    this.load();
    return removed;
  }

  /**
   * `-ato` on a host: activates every installed key with the authority. A key that is not yet
   * activated reuses its stored request ID, so a retry after a lost answer costs nothing; an
   * explicit reactivation (`force`) uses a new one and so one of the key's activations.
   */
  async activate(authority: string | null, force: boolean, postAuthority: Post): Promise<KeyActivation[]> {
    if (!authority)
      throw new VolactError('USAGE', { detail: 'the host has no authority URL; start it with --authority URL' });
    const keys = this.keys();
    if (keys.length === 0) throw new VolactError('KEY_NOT_INSTALLED');
    const results = [];
    for (const key of keys) {
      if (key.certificate && !force) continue;
      let requestId = key.requestId;
      if (key.certificate && force && key.requestAnswered) {
        // A new reactivation. Until its answer is stored, retries reuse this ID and cost nothing.
        requestId = randomBytes(16).toString('base64url');
        this.store.newRequestId(key.id, requestId);
      }
      const body = {
        v: 1,
        hostKey: key.productKey,
        hostPublicKey: this.publicKey,
        hostName: this.hostName(),
        requestId,
      };
      const answer = await callAuthority(
        authority,
        this.kind.what === 'host' ? '/v1/host-activations' : '/v1/hypervisor-activations',
        body,
        hostActivationAnswerSchema,
        postAuthority,
      );
      // Trust nothing the authority sent until it chains to the pinned root and names our key.
      const { cert } = verifyHostCert(answer.certificate, answer.issuer, this.roots, this.clock.now(), this.kind);
      if (cert.hostPublicKey !== this.publicKey)
        throw new VolactError('HOST_CERT_MISMATCH', { detail: 'certificate is for another host key' });
      const catalog = verifyCatalog(answer.catalog, answer.catalogIssuer, this.roots);
      this.certified(key.id, { jws: answer.certificate, issuer: answer.issuer }, catalog, {
        jws: answer.catalog,
        issuer: answer.catalogIssuer,
      });
      results.push({
        id: key.id,
        group: cert.group,
        hostsUsed: answer.hostsUsed,
        hostsLimit: answer.hostsLimit,
        activationsUsed: answer.activationsUsed,
        activationsLimit: answer.activationsLimit,
      });
    }
    return results;
  }

  /** `-dti` on a host: the installation ID of each installed host key for this host's own key pair. */
  installationIds(): { id: string; group: number; activated: boolean; installationId: string }[] {
    const keys = this.keys();
    if (keys.length === 0) throw new VolactError('KEY_NOT_INSTALLED');
    return keys.map((k) => ({
      id: k.id,
      group: k.groupNumber,
      activated: k.certificate !== null,
      installationId: makeInstallationId(decodeKey(k.productKey), {
        type: this.kind.offlineType,
        hostPublicKey: this.publicKey,
      }).text,
    }));
  }

  /**
   * `-atp CID` on a host: finds the installed key whose installation ID the confirmation covers,
   * verifies it offline against the pinned root (offline issuer and catalog from the bundle) and
   * stores it as that key's certificate. Clients verify it like any host certificate.
   */
  applyConfirmation(cidText: string): { id: string; group: string } {
    const bundle = this.offlineBundle;
    if (!bundle) throw new VolactError('OFFLINE_BUNDLE_MISSING', { dir: 'the host state directory' });
    const cid = parseConfirmation(cidText); // typos are named by group before anything else
    const catalog = verifyCatalog(bundle.catalog, bundle.catalogIssuer, this.roots);
    let mismatch: unknown;
    for (const key of this.keys()) {
      const iid = makeInstallationId(decodeKey(key.productKey), {
        type: this.kind.offlineType,
        hostPublicKey: this.publicKey,
      });
      const certificate = offlineHostCertificate(
        {
          iid: iid.publicForm.toString('base64url'),
          cid: cid.text,
          catalog: bundle.catalog,
          catalogIssuer: bundle.catalogIssuer,
        },
        this.kind,
      );
      let cert;
      try {
        cert = verifyHostCert(certificate, bundle.offlineIssuer, this.roots, this.clock.now(), this.kind).cert;
      } catch (err) {
        if (err instanceof VolactError && err.code === 'CONFIRMATION_MISMATCH') {
          mismatch = err;
          continue;
        }
        throw err;
      }
      this.certified(key.id, { jws: certificate, issuer: bundle.offlineIssuer }, catalog, {
        jws: bundle.catalog,
        issuer: bundle.catalogIssuer,
      });
      return { id: key.id, group: cert.group };
    }
    if (mismatch)
      throw new VolactError('CONFIRMATION_MISMATCH', {
        detail: `it covers none of the ${this.kind.keyClass} keys installed here; run -dti again and give the authority the ID shown now`,
      });
    throw new VolactError('KEY_NOT_INSTALLED');
  }

  /** Stores a verified certificate for a key, with its catalog unless the stored one is newer, and loads both. */
  private certified(keyId: string, cert: Signed, catalog: Catalog, catalogJws: Signed): void {
    this.store.saveCertificate(
      keyId,
      cert,
      this.clock.now(),
      catalog.serial >= (this.current?.serial ?? 0) ? catalogJws : undefined,
    );
    this.load();
  }
}
