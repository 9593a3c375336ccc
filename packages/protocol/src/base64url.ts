export function b64u(data: Uint8Array | string): string {
  return Buffer.from(data).toString('base64url');
}

export function fromB64u(text: string): Buffer {
  return Buffer.from(text, 'base64url');
}

/** Strict check: base64url text that round-trips exactly (Node's decoder is lenient). */
export function isB64u(text: string): boolean {
  return /^[A-Za-z0-9_-]*$/.test(text) && Buffer.from(text, 'base64url').toString('base64url') === text;
}
