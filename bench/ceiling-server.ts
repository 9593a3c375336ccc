/**
 * The ceiling for bench/host-activation: a bare node:http server that does only what an
 * activation answer cannot do without — read and JSON.parse the request, build a grant payload
 * of the same shape and size as the host's, sign it with Ed25519 as a JWS and answer with the
 * host's body shape. No validation, no database, no counting.
 *
 *   node bench/dist/ceiling-server.js SPEC.json
 *
 * SPEC.json: { hostId, hostName, certificate, issuer, required, renewalMinutes, retryMinutes }
 * (the certificate and issuer strings are a real host's, so the body has the same length).
 * Prints "ceiling listening on port N" once it listens on 127.0.0.1.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { DOC_VERSION, defaults, docTypes, generateKeyPair, signer } from '@volact/protocol';

type Spec = {
  hostId: string;
  hostName: string;
  certificate: string;
  issuer: string;
  required: number;
  renewalMinutes: number;
  retryMinutes: number;
};

const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Spec;
// Same key type and kid shape as the host's own key ("host-" + 16 characters).
const sign = signer(generateKeyPair('host'), docTypes.grant, DOC_VERSION);
const suffix = `","certificate":"${spec.certificate}","issuer":"${spec.issuer}"}`;
let count = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json', 'content-length': 2 });
      res.end('{}');
      return;
    }
    const now = Date.now();
    const jws = sign({
      machineId: body.machineId,
      nonce: body.nonce,
      edition: 101,
      hostId: spec.hostId,
      hostName: spec.hostName,
      issuedAt: now,
      count: ++count,
      required: spec.required,
      renewalMinutes: spec.renewalMinutes,
      retryMinutes: spec.retryMinutes,
      fingerprintHash: body.fingerprintHash,
      validUntil: now + defaults.validityMs,
    });
    const text = `{"answer":"${jws}${suffix}`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});
server.keepAliveTimeout = 30_000;
server.listen({ port: 0, host: '127.0.0.1' }, () => {
  process.stdout.write(`ceiling listening on port ${(server.address() as { port: number }).port}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
