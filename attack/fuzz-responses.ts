/**
 * Reads the HTTP/1.1 answers a server writes onto a raw socket: status line, headers, and a body
 * framed by Content-Length, chunked coding, or the end of the connection. Interim 1xx answers
 * (100 Continue) are skipped; what is not HTTP at all is kept as `junk`.
 */
export type Answer = { status: number; body: string };

const BODYLESS = (status: number) => (status >= 100 && status < 200) || status === 204 || status === 304;

export class ResponseReader {
  readonly answers: Answer[] = [];
  junk = false;
  private buf: Buffer = Buffer.alloc(0);

  /** Feeds bytes; parses every answer that is complete. */
  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (!this.junk && this.parseOne(false));
  }

  /** The connection ended: a body framed by the close is complete now. */
  end(): void {
    while (!this.junk && this.buf.length > 0 && this.parseOne(true));
  }

  private parseOne(closed: boolean): boolean {
    const headEnd = this.buf.indexOf('\r\n\r\n');
    if (headEnd < 0) {
      if (closed || this.buf.length > 65_536) this.junk = this.buf.length > 0;
      return false;
    }
    const lines = this.buf.subarray(0, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) {
      this.junk = true;
      return false;
    }
    const status = Number(m[1]);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
    }
    let rest: Buffer = this.buf.subarray(headEnd + 4);
    let body: Buffer;
    if (BODYLESS(status)) body = Buffer.alloc(0);
    else if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
      const parsed = dechunk(rest);
      if (!parsed) return closed ? this.fail() : false;
      [body, rest] = parsed;
    } else if (headers.has('content-length')) {
      const n = Number(headers.get('content-length'));
      if (rest.length < n) return closed ? this.fail() : false;
      body = rest.subarray(0, n);
      rest = rest.subarray(n);
    } else {
      if (!closed) return false;
      body = rest;
      rest = Buffer.alloc(0);
    }
    this.buf = rest;
    if (status >= 200) this.answers.push({ status, body: body.subarray(0, 4096).toString('utf8') });
    return true;
  }

  private fail(): boolean {
    this.junk = true;
    return false;
  }
}

/** A chunked body and what follows it, or undefined while it is incomplete. */
function dechunk(buf: Buffer): [Buffer, Buffer] | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (!Number.isFinite(size)) return undefined;
    at = eol + 2;
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', at - 2);
      return end < 0 ? undefined : [Buffer.concat(parts), buf.subarray(end + 4)];
    }
    if (buf.length < at + size + 2) return undefined;
    parts.push(buf.subarray(at, at + size));
    at += size + 2;
  }
}
