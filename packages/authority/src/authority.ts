import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  DOC_VERSION,
  MAX_JWS_LENGTH,
  VolactError,
  decodeKey,
  defaults,
  docTypes,
  KEY_VERSION,
  hostIdFor,
  installationIdMacValid,
  makeConfirmation,
  makIdOf,
  parseInstallationId,
  publicKeyToPem,
  rawPublicKey,
  keyTagValid,
  mintKey,
  parseJws,
  partialKey,
  publicKeyFromRaw,
  signDocument,
  type Catalog,
  type Clock,
  type HostActivationAnswer,
  type DirectoryActivationAnswer,
  type DirectoryActivationRequest,
  type DirectoryObject,
  type HostActivationRequest,
  type HostCert,
  type IncreaseRequestBody,
  type MakActivationAnswer,
  type MakActivationRequest,
  type MakGrant,
  type OfflineBundle,
} from '@volact/protocol';
import { buildCatalog } from './catalog.js';
import type { AuthorityKeys, Issuer } from './keys.js';
import {
  tokenScopes,
  type AuditRow,
  type AuthorityStore,
  type HostKeyRow,
  type IncreaseRequest,
  type MakRow,
  type TokenRow,
  type TokenScope,
} from './store.js';

export type IssuedHostKey = { key: string; id: string; group: string; maxHosts: number; maxActivations: number };
export type IssuedMak = { key: string; id: string; edition: string; maxActivations: number };

export function keyHash(canonical: string): string {
  return createHash('sha256').update(`volact-key-hash/${canonical}`).digest('base64url');
}

/** Who asks: `cli:<user>` on the authority's machine, `token:<id>` through the admin API. */
export type Actor = string;

export type Confirmed = {
  type: 'host' | 'mak' | 'directory';
  installationId: string;
  confirmationId: string;
  keyId: string;
  outcome: string;
  used: number;
  limit: number;
};

export type IssuedToken = { id: string; token: string; name: string; scopes: TokenScope[] };

const tokenHash = (secret: string) => createHash('sha256').update(`volact-token/${secret}`).digest('base64url');

/** The publisher's authority: the verbs; storage and transport are injected. */
export class Authority {
  constructor(
    private readonly keys: AuthorityKeys,
    private readonly store: AuthorityStore,
    private readonly clock: Clock,
  ) {}

  private issuer(purpose: 'host-cert' | 'catalog' | 'mak-grant' | 'offline' | 'directory'): Issuer {
    const issuer = this.keys.issuers.get(purpose);
    if (!issuer)
      throw new VolactError('AUTHORITY_NOT_READY', {
        detail: `no ${purpose} issuing key (certify one: volact authority rotate-issuer --purpose ${purpose})`,
      });
    return issuer;
  }

  private audit(actor: Actor, action: string, target: string, detail: string) {
    return { actor, action, target, detail, at: this.clock.now() };
  }

  /** The latest catalog, signed by the current catalog issuer (re-signed after a rotation). */
  async catalog(): Promise<{ catalog: Catalog; jws: string; issuer: string }> {
    const latest = await this.store.latestCatalog();
    if (!latest) throw new VolactError('AUTHORITY_NOT_READY', { detail: 'no catalog imported' });
    const issuer = this.issuer('catalog');
    if (parseJws(latest.jws).header.kid === issuer.pair.kid) return { ...latest, issuer: issuer.certificate };
    if (this.resigned?.serial !== latest.catalog.serial || this.resigned.kid !== issuer.pair.kid) {
      // stamped now: hosts check that the issuing key was valid when it signed
      const body = { ...latest.catalog, issuedAt: this.clock.now() };
      this.resigned = {
        serial: latest.catalog.serial,
        kid: issuer.pair.kid,
        jws: signDocument(issuer.pair, docTypes.catalog, DOC_VERSION, body),
      };
    }
    return { catalog: latest.catalog, jws: this.resigned.jws, issuer: issuer.certificate };
  }
  private resigned: { serial: number; kid: string; jws: string } | undefined;

  async importCatalog(file: unknown, actor: Actor): Promise<Catalog> {
    const serial = ((await this.store.latestCatalog())?.catalog.serial ?? 0) + 1;
    const catalog = buildCatalog(file, this.keys.mintSecret, serial, this.clock.now());
    const jws = signDocument(this.issuer('catalog').pair, docTypes.catalog, DOC_VERSION, catalog);
    // hosts would refuse a larger document, so it is refused here, before anything is stored
    if (jws.length > MAX_JWS_LENGTH / 2)
      throw new VolactError('CATALOG_INVALID', {
        detail: `the signed catalog would be ${jws.length} bytes; at most ${MAX_JWS_LENGTH / 2} are allowed`,
      });
    await this.store.saveCatalog(
      catalog,
      jws,
      this.audit(
        actor,
        'catalog.import',
        `catalog ${serial}`,
        `${catalog.editions.length} editions, ${catalog.groups.length} groups`,
      ),
    );
    return catalog;
  }

  async issueHostKey(
    groupCode: string,
    limits: { maxHosts?: number; maxActivations?: number },
    actor: Actor,
  ): Promise<IssuedHostKey> {
    const group = (await this.catalog()).catalog.groups.find((g) => g.code === groupCode);
    if (!group) throw new VolactError('GROUP_UNKNOWN', { group: groupCode });
    const maxHosts = limits.maxHosts ?? defaults.hostKeyMaxHosts;
    const maxActivations = limits.maxActivations ?? defaults.hostKeyMaxActivations;
    for (const [name, value] of [
      ['hosts', maxHosts],
      ['activations', maxActivations],
    ] as const) {
      if (!Number.isInteger(value) || value < 1 || value > 100_000)
        throw new VolactError('VALUE_OUT_OF_RANGE', { name, min: 1, max: 100_000, value });
    }
    const serial = BigInt('0x' + randomBytes(7).toString('hex'));
    const key = mintKey(this.keys.mintSecret, 'host', group.number, serial);
    const id = `HK-${randomUUID().slice(0, 8)}`;
    await this.store.insertHostKey(
      {
        id,
        keyHash: keyHash(key),
        partial: partialKey(key),
        groupCode: group.code,
        maxHosts,
        maxActivations,
        createdAt: this.clock.now(),
      },
      this.audit(
        actor,
        'host-key.issue',
        id,
        `group ${group.code}, ${maxHosts} hosts, ${maxActivations} activations, key ending ${partialKey(key)}`,
      ),
    );
    return { key, id, group: group.code, maxHosts, maxActivations };
  }

  listHostKeys(): Promise<HostKeyRow[]> {
    return this.store.listHostKeys();
  }

  /** Finds an issued key; anything not minted here or not on record is an "unknown key". */
  private async findHostKey(typed: string): Promise<HostKeyRow> {
    const decoded = decodeKey(typed);
    if (decoded.keyClass !== 'host')
      throw new VolactError('KEY_WRONG_CLASS', { actual: decoded.keyClass, expected: 'host' });
    if (!keyTagValid(this.keys.mintSecret, decoded)) throw new VolactError('KEY_UNKNOWN');
    const row = await this.store.findHostKeyByHash(keyHash(decoded.canonical));
    if (!row) throw new VolactError('KEY_UNKNOWN');
    return row;
  }

  /** Issues a MAK for one edition with a number of activations (shown once; only its hash is kept). */
  async issueMak(editionCode: string, activations: number, actor: Actor): Promise<IssuedMak> {
    const edition = (await this.catalog()).catalog.editions.find((e) => e.code === editionCode);
    if (!edition) throw new VolactError('CATALOG_INVALID', { detail: `there is no edition ${editionCode}` });
    if (!Number.isInteger(activations) || activations < 1 || activations > 10_000_000)
      throw new VolactError('VALUE_OUT_OF_RANGE', { name: 'activations', min: 1, max: 10_000_000, value: activations });
    const key = mintKey(this.keys.mintSecret, 'mak', edition.number, BigInt('0x' + randomBytes(7).toString('hex')));
    const id = makIdOf(decodeKey(key));
    await this.store.insertMak(
      {
        id,
        keyHash: keyHash(key),
        partial: partialKey(key),
        edition: edition.number,
        maxActivations: activations,
        createdAt: this.clock.now(),
      },
      this.audit(
        actor,
        'mak.issue',
        id,
        `edition ${edition.code}, ${activations} activations, key ending ${partialKey(key)}`,
      ),
    );
    return { key, id, edition: edition.code, maxActivations: activations };
  }

  listMaks(): Promise<MakRow[]> {
    return this.store.listMaks();
  }

  /**
   * MAK activation: permanent, bound to the machine's (hashed) hardware. The same machine within
   * tolerance, or a retry after a lost answer, is answered again without using an activation.
   */
  async activateMak(req: MakActivationRequest): Promise<MakActivationAnswer> {
    const decoded = decodeKey(req.makKey);
    if (decoded.keyClass !== 'mak')
      throw new VolactError('KEY_WRONG_CLASS', { actual: decoded.keyClass, expected: 'mak' });
    if (!keyTagValid(this.keys.mintSecret, decoded)) throw new VolactError('KEY_UNKNOWN');
    const mak = await this.store.findMakByHash(keyHash(decoded.canonical));
    if (!mak) throw new VolactError('KEY_UNKNOWN');
    const edition = (await this.catalog()).catalog.editions.find((e) => e.number === mak.edition);
    if (!edition)
      throw new VolactError('AUTHORITY_NOT_READY', { detail: `edition ${mak.edition} is not in the catalog` });
    const now = this.clock.now();
    const outcome = await this.store.activateMak({ makId: mak.id, machineId: req.machineId, parts: req.parts, now });
    if (outcome.kind === 'limit') throw new VolactError('MAK_LIMIT', { used: outcome.used, limit: outcome.limit });
    return this.signMakGrant(mak, edition, req, outcome, now);
  }

  private signMakGrant(
    mak: MakRow,
    edition: Catalog['editions'][number],
    req: MakActivationRequest,
    outcome: { used: number; limit: number },
    now: number,
  ): MakActivationAnswer {
    const issuer = this.issuer('mak-grant');
    const grant: MakGrant = {
      makId: mak.id,
      machineId: req.machineId,
      nonce: req.nonce,
      edition: edition.number,
      editionCode: edition.code,
      editionName: edition.name,
      parts: req.parts,
      issuedAt: now,
      activationsUsed: outcome.used,
      activationsLimit: outcome.limit,
    };
    return { grant: signDocument(issuer.pair, docTypes.makGrant, DOC_VERSION, grant), issuer: issuer.certificate };
  }

  /** Finds the record of an issued host key or MAK from the key itself (knowing it proves ownership). */
  private async ownKey(typed: string): Promise<{ kind: 'host-key' | 'mak'; id: string }> {
    const decoded = decodeKey(typed);
    if (decoded.keyClass !== 'host' && decoded.keyClass !== 'mak')
      throw new VolactError('KEY_WRONG_CLASS', { actual: decoded.keyClass, expected: 'host or MAK' });
    if (!keyTagValid(this.keys.mintSecret, decoded)) throw new VolactError('KEY_UNKNOWN');
    const hash = keyHash(decoded.canonical);
    const row =
      decoded.keyClass === 'host' ? await this.store.findHostKeyByHash(hash) : await this.store.findMakByHash(hash);
    if (!row) throw new VolactError('KEY_UNKNOWN');
    return { kind: decoded.keyClass === 'host' ? 'host-key' : 'mak', id: row.id };
  }

  /** A customer asks for more activations (MAK, host key) or more hosts (host key). */
  async requestIncrease(req: IncreaseRequestBody): Promise<{ id: string; state: string }> {
    const key = await this.ownKey(req.key);
    if (key.kind === 'mak' && req.what === 'hosts')
      throw new VolactError('BAD_REQUEST', { field: 'what', problem: 'must be activations for a MAK' });
    const id = `IR-${randomUUID().slice(0, 8)}`;
    await this.store.createIncreaseRequest({
      id,
      keyKind: key.kind,
      keyId: key.id,
      what: req.what,
      amount: req.amount,
      reason: req.reason,
      createdAt: this.clock.now(),
    });
    return { id, state: 'pending' };
  }

  /** The state of a request, for the customer who holds the key it is about. */
  async increaseStatus(id: string, typedKey: string): Promise<IncreaseRequest> {
    const key = await this.ownKey(typedKey);
    const request = await this.store.increaseRequest(id);
    if (!request || request.keyId !== key.id) throw new VolactError('REQUEST_UNKNOWN', { id });
    return request;
  }

  increaseRequests(state?: IncreaseRequest['state']): Promise<IncreaseRequest[]> {
    return this.store.increaseRequests(state);
  }

  /** The publisher approves (with the amount granted, default the amount asked) or rejects a request. */
  async decideIncrease(
    id: string,
    approve: boolean,
    amount: number | undefined,
    note: string | undefined,
    actor: Actor,
  ): Promise<IncreaseRequest> {
    const request = await this.store.increaseRequest(id);
    if (!request) throw new VolactError('REQUEST_UNKNOWN', { id });
    const granted = amount ?? request.amount;
    if (!Number.isInteger(granted) || granted < 1 || granted > 10_000_000)
      throw new VolactError('VALUE_OUT_OF_RANGE', { name: 'amount', min: 1, max: 10_000_000, value: granted });
    const decided = await this.store.decideIncreaseRequest(
      id,
      { approve, granted, note: note ?? null, now: this.clock.now() },
      this.audit(actor, approve ? 'request.approve' : 'request.reject', id, ''),
    );
    if (!decided) throw new VolactError('REQUEST_DECIDED', { id, state: request.state });
    return decided;
  }

  /** Frees the slot of a decommissioned host on a host key. */
  async releaseHost(hostKeyId: string, hostId: string, actor: Actor): Promise<void> {
    if (
      !(await this.store.releaseHost(
        hostKeyId,
        hostId,
        this.audit(actor, 'host.release', `${hostKeyId}/${hostId}`, 'slot freed'),
      ))
    )
      throw new VolactError('REQUEST_UNKNOWN', { id: `${hostKeyId}/${hostId}` });
  }

  /** Online host activation: 6 distinct hosts and 10 activations per host key by default. */
  async activateHost(req: HostActivationRequest, actor?: Actor): Promise<HostActivationAnswer> {
    const row = await this.findHostKey(req.hostKey);
    const { catalog, jws: catalogJws, issuer: catalogIssuer } = await this.catalog();
    const group = catalog.groups.find((g) => g.code === row.groupCode);
    if (!group) throw new VolactError('GROUP_UNKNOWN', { group: row.groupCode });
    publicKeyFromRaw(req.hostPublicKey);
    const hostId = hostIdFor(req.hostPublicKey);
    const issuer = this.issuer('host-cert');
    const now = this.clock.now();
    const outcome = await this.store.activateHost(
      {
        hostKeyId: row.id,
        hostPublicKey: req.hostPublicKey,
        hostId,
        hostName: req.hostName,
        requestId: req.requestId,
        now,
      },
      (activation, usage) => {
        const cert: HostCert = {
          hostId,
          hostKeyId: row.id,
          hostPublicKey: req.hostPublicKey,
          hostName: req.hostName,
          group: group.code,
          editions: catalog.editions
            .filter((e) => group.editions.includes(e.number))
            .map(({ number, code, name, kind }) => ({ number, code, name, kind })),
          issuedAt: now,
          notAfter: null,
          activation,
        };
        const answer: HostActivationAnswer = {
          certificate: signDocument(issuer.pair, docTypes.hostCert, DOC_VERSION, cert),
          issuer: issuer.certificate,
          catalog: catalogJws,
          catalogIssuer,
          hostsUsed: usage.hostsUsed,
          hostsLimit: usage.hostsLimit,
          activationsUsed: usage.activationsUsed,
          activationsLimit: usage.activationsLimit,
        };
        return JSON.stringify(answer);
      },
      actor ? this.audit(actor, 'host.activate', `${row.id}/${hostId}`, 'offline confirmation') : undefined,
    );
    return JSON.parse(slotAnswer(outcome)) as HostActivationAnswer;
  }

  /**
   * Directory activation: the host key activates one directory like a host (the directory takes
   * one host slot, each object one activation) and the authority signs an activation object
   * bound to the directory's server-generated ID. Retries with the same requestId use nothing.
   */
  async activateDirectory(req: DirectoryActivationRequest, actor?: Actor): Promise<DirectoryActivationAnswer> {
    const row = await this.findHostKey(req.hostKey);
    const { catalog } = await this.catalog();
    const group = catalog.groups.find((g) => g.code === row.groupCode);
    if (!group) throw new VolactError('GROUP_UNKNOWN', { group: row.groupCode });
    const issuer = this.issuer('directory');
    const now = this.clock.now();
    const directoryId = req.directoryId.toLowerCase();
    const hostId =
      'D' + createHash('sha256').update(`volact-directory/${directoryId}`).digest('base64url').slice(0, 12);
    const outcome = await this.store.activateHost(
      {
        hostKeyId: row.id,
        hostPublicKey: `directory:${directoryId}`,
        hostId,
        hostName: `directory ${req.suffix}`.slice(0, 128),
        requestId: req.requestId,
        now,
      },
      (activation, usage) => {
        const doc: DirectoryObject = {
          objectId: `AO-${randomUUID().slice(0, 8)}`,
          name: req.name,
          directoryId,
          directoryKind: req.directoryKind,
          suffix: req.suffix,
          hostKeyId: row.id,
          group: group.code,
          editions: catalog.editions
            .filter((e) => group.editions.includes(e.number))
            .map(({ number, code, name, kind }) => ({ number, code, name, kind })),
          issuedAt: now,
          activation,
        };
        const answer: DirectoryActivationAnswer = {
          object: signDocument(issuer.pair, docTypes.directoryObject, DOC_VERSION, doc),
          issuer: issuer.certificate,
          ...usage,
        };
        return JSON.stringify(answer);
      },
      actor
        ? this.audit(actor, 'directory.activate', `${row.id}/${hostId}`, `${req.suffix} (${directoryId})`)
        : undefined,
    );
    return JSON.parse(slotAnswer(outcome)) as DirectoryActivationAnswer;
  }

  /**
   * Offline ("phone") activation: reads an installation ID, re-derives the key from its ID with
   * the mint secret, checks the MAC (only the key holder can make it), activates through the
   * same idempotent paths as online activation and signs a confirmation ID. The same IID asked
   * twice is a retry: it uses one activation.
   */
  async confirmOffline(
    text: string,
    actor?: Actor,
    onKeyProven?: (keyId: string) => Promise<void>,
  ): Promise<Confirmed> {
    const iid = parseInstallationId(text);
    if (iid.key.version !== KEY_VERSION)
      throw new VolactError('INSTALLATION_ID_INVALID', { detail: `key version ${iid.key.version}` });
    const canonical = mintKey(this.keys.mintSecret, iid.key.keyClass, iid.key.ref, iid.key.serial);
    if (!installationIdMacValid(iid, canonical))
      throw new VolactError('INSTALLATION_ID_INVALID', { detail: 'its check does not match the key it names' });
    // per-key limits count only proven holders: nobody can use up a victim's limit with garbage
    await onKeyProven?.(canonical);
    const issuer = this.issuer('offline');
    // a prefix no online request ID can have (those are base64url): an IID cannot be squatted
    const iidHash = createHash('sha256').update(iid.publicForm).digest('base64url');
    let result: { keyId: string; outcome: string; used: number; limit: number };
    if (iid.type === 'directory') {
      const row = await this.findHostKey(canonical);
      const answer = await this.activateDirectory(
        {
          v: 1,
          hostKey: canonical,
          directoryId: iid.directoryId!,
          directoryKind: 'openldap',
          suffix: `offline ${iid.directoryId}`,
          name: 'offline',
          requestId: `iid:${iidHash}`,
        },
        actor,
      );
      result = {
        keyId: row.id,
        outcome: 'directory activated',
        used: answer.activationsUsed,
        limit: answer.activationsLimit,
      };
    } else if (iid.type === 'host') {
      const hostPublicKey = iid.hostPublicKey!.toString('base64url');
      const row = await this.findHostKey(canonical);
      const answer = await this.activateHost(
        {
          v: 1,
          hostKey: canonical,
          hostPublicKey,
          hostName: `offline ${hostIdFor(hostPublicKey)}`,
          requestId: `iid:${iidHash}`,
        },
        actor,
      );
      result = {
        keyId: row.id,
        outcome: 'host activated',
        used: answer.activationsUsed,
        limit: answer.activationsLimit,
      };
    } else {
      const mak = await this.store.findMakByHash(keyHash(canonical));
      if (!mak) throw new VolactError('KEY_UNKNOWN');
      const machineId = `iid-${iid.machineRef!.toString('base64url')}`;
      const outcome = await this.store.activateMak(
        { makId: mak.id, machineId, parts: iid.parts!, now: this.clock.now(), iidHash },
        actor ? this.audit(actor, 'mak.activate', `${mak.id}/${machineId}`, 'offline confirmation') : undefined,
      );
      if (outcome.kind === 'limit') throw new VolactError('MAK_LIMIT', { used: outcome.used, limit: outcome.limit });
      result = { keyId: mak.id, outcome: outcome.kind, used: outcome.used, limit: outcome.limit };
    }
    const cid = makeConfirmation(
      iid,
      { privateKey: issuer.pair.privateKey, rawPublicKey: rawPublicKey(issuer.pair.publicKey) },
      this.clock.now(),
    );
    return { type: iid.type, installationId: iid.text, confirmationId: cid.text, ...result };
  }

  /** What air-gapped hosts and machines install to check confirmations: root, offline issuer, catalog. */
  async offlineBundle(): Promise<OfflineBundle> {
    const { jws, issuer } = await this.catalog();
    return {
      v: 1,
      kind: 'volact.offline-bundle',
      root: publicKeyToPem(this.keys.root.key),
      offlineIssuer: this.issuer('offline').certificate,
      catalog: jws,
      catalogIssuer: issuer,
    };
  }

  /** Creates an admin API token; the secret is shown once, only its hash is kept. */
  async createToken(name: string, scopes: string[], actor: Actor): Promise<IssuedToken> {
    if (typeof name !== 'string' || name.length < 1 || name.length > 100)
      throw new VolactError('BAD_REQUEST', { field: 'name', problem: 'must be 1 to 100 characters' });
    const bad = scopes.find((s) => !tokenScopes.includes(s as TokenScope));
    if (scopes.length === 0 || bad !== undefined)
      throw new VolactError('BAD_REQUEST', {
        field: 'scopes',
        problem: `must be some of ${tokenScopes.join(', ')}${bad !== undefined ? `; got ${bad}` : ''}`,
      });
    const id = `T${randomBytes(5).toString('hex')}`;
    const secret = randomBytes(24).toString('base64url');
    const unique = [...new Set(scopes)] as TokenScope[];
    await this.store.insertToken(
      { id, name, scopes: unique, tokenHash: tokenHash(secret), createdAt: this.clock.now() },
      this.audit(actor, 'token.create', id, `${name}: ${unique.join(',')}`),
    );
    return { id, token: `vat_${id}_${secret}`, name, scopes: unique };
  }

  async revokeToken(id: string, actor: Actor): Promise<void> {
    if (!(await this.store.revokeToken(id, this.audit(actor, 'token.revoke', id, 'revoked'))))
      throw new VolactError('REQUEST_UNKNOWN', { id });
  }

  listTokens(): Promise<TokenRow[]> {
    return this.store.listTokens();
  }

  auditLog(limit = 100): Promise<AuditRow[]> {
    return this.store.auditLog(limit);
  }

  /** Checks a bearer token: known, not revoked, secret matching its stored hash. */
  async authenticate(authorization: string | undefined): Promise<{ id: string; scopes: TokenScope[] }> {
    if (!authorization) throw new VolactError('TOKEN_MISSING');
    const m = /^Bearer vat_(T[0-9a-f]{10})_([A-Za-z0-9_-]{32})$/.exec(authorization.trim());
    if (!m) throw new VolactError('TOKEN_INVALID');
    const row = await this.store.findToken(m[1]!);
    const given = Buffer.from(tokenHash(m[2]!));
    if (!row || row.revokedAt !== null || !timingSafeEqual(Buffer.from(row.tokenHash), given))
      throw new VolactError('TOKEN_INVALID');
    return { id: row.id, scopes: row.scopes };
  }
}

/** The answer of a host-slot activation (host or directory), or the error its outcome means. */
function slotAnswer(outcome: Awaited<ReturnType<AuthorityStore['activateHost']>>): string {
  switch (outcome.kind) {
    case 'activated':
    case 'reactivated':
    case 'retried':
      return outcome.answer;
    case 'hostLimit':
      throw new VolactError('KEY_LIMIT_HOSTS', { used: outcome.used, limit: outcome.limit });
    case 'activationLimit':
      throw new VolactError('KEY_LIMIT_ACTIVATIONS', { used: outcome.used, limit: outcome.limit });
    case 'requestConflict':
      throw new VolactError('BAD_REQUEST', {
        field: 'requestId',
        problem: 'was already used for another host, directory or key',
      });
  }
}
