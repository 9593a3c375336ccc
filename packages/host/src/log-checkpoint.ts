import type { KeyObject } from 'node:crypto';
import {
  DOC_VERSION,
  docTypes,
  hostIdFor,
  int,
  kidFor,
  obj,
  rawPublicKey,
  readPayload,
  readableVersions,
  signer,
  str,
  verifyJws,
  type Infer,
  type KeyPair,
} from '@volact/protocol';

const b64hash = str({ min: 43, max: 43, pattern: /^[A-Za-z0-9_-]+$/ });
const seq = int({ min: 0, max: Number.MAX_SAFE_INTEGER });

/**
 * `volact.log-checkpoint`, signed by the host's own key: the host's log had `seq` records (seq
 * is also the count of records ever chained), the last of them with hash `hash`, and kept the
 * records from `firstSeq` on (older ones were pruned) at time `at`.
 */
export const checkpointSchema = obj({
  hostId: str({ min: 1, max: 64, pattern: /^[A-Za-z0-9._:-]+$/ }),
  seq,
  hash: b64hash,
  firstSeq: seq,
  at: int({ min: 0, max: 8.64e15 }),
});
export type Checkpoint = Infer<typeof checkpointSchema>;

/** Signs checkpoints with the host's key; its host ID is derived from that key, as in its certificates. */
export function checkpointSigner(keyPair: KeyPair): (c: Omit<Checkpoint, 'hostId'>) => string {
  const sign = signer(keyPair, docTypes.logCheckpoint, DOC_VERSION);
  const hostId = hostIdFor(rawPublicKey(keyPair.publicKey));
  return (c) => sign({ hostId, ...c });
}

/** Verifies a checkpoint against the host's public key; throws the protocol's error otherwise. */
export function verifyCheckpoint(jws: string, publicKey: KeyObject): Checkpoint {
  const parsed = verifyJws(jws, {
    typ: docTypes.logCheckpoint,
    versions: readableVersions,
    kid: kidFor('host', publicKey),
    key: publicKey,
  });
  const c = readPayload(docTypes.logCheckpoint, checkpointSchema, parsed.payload);
  if (c.hostId !== hostIdFor(rawPublicKey(publicKey)))
    throw new Error(`it names host ${c.hostId}, not ${hostIdFor(rawPublicKey(publicKey))}`);
  return c;
}
