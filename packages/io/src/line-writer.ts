import { EventEmitter } from 'node:events';
import { mkdirSync, openSync, write, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Where a server's log lines go: an append-only file descriptor (stderr, or a file), written
 * asynchronously. Lines that come while a write is in flight, or within one turn of the event
 * loop, go out together in the next write: under load that is one system call for many lines,
 * so the access log costs the host's hot path about a microsecond a line, against five through
 * sonic-boom (pino's own destination), which writes at most 16 KiB at a time and slices its
 * buffer for each (npm run bench:access-log). A write never blocks the event loop, so a slow
 * journal cannot stall activations; a log that cannot be written is dropped, never a crash.
 */
/** Every writer with lines held back, written out synchronously when the process exits. */
const open = new Set<LineWriter>();
let hooked = false;
function flushAtExit(w: LineWriter): void {
  open.add(w);
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const each of open) each.flushSync();
  });
}

export class LineWriter extends EventEmitter {
  private readonly fd: number;
  private pending: string[] = [];
  private writing = false;
  private scheduled = false;

  constructor(dest: number | string) {
    super();
    if (typeof dest === 'number') this.fd = dest;
    else {
      mkdirSync(dirname(dest), { recursive: true });
      this.fd = openSync(dest, 'a', 0o640);
    }
    flushAtExit(this);
  }

  /** pino's destination interface: one whole line at a time. */
  write(line: string): boolean {
    this.pending.push(line);
    if (!this.writing && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return true;
  }

  /** Nothing held back and nothing in flight. */
  get idle(): boolean {
    return !this.writing && !this.scheduled && this.pending.length === 0;
  }

  /** Resolves once every line so far is written (before a clean exit), within `ms`. */
  drain(ms = 2000): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.once('drain', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Writes what is held back now, synchronously (a crash, exit). A write in flight is not waited for. */
  flushSync(): void {
    const data = Buffer.from(this.pending.join(''));
    this.pending = [];
    let off = 0;
    while (off < data.length) {
      try {
        off += writeSync(this.fd, data, off);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      }
    }
  }

  private flush(): void {
    this.scheduled = false;
    if (this.writing || this.pending.length === 0) return;
    const data = Buffer.from(this.pending.join(''));
    this.pending = [];
    this.writing = true;
    this.writeFrom(data, 0);
  }

  private writeFrom(data: Buffer, off: number): void {
    write(this.fd, data, off, data.length - off, null, (err, n) => {
      if (err) {
        // a non-blocking pipe that is full: try again shortly; anything else drops this batch
        if (err.code === 'EAGAIN') {
          setTimeout(() => this.writeFrom(data, off), 10);
          return;
        }
      } else if (off + n < data.length) {
        this.writeFrom(data, off + n);
        return;
      }
      this.writing = false;
      if (this.pending.length > 0) this.flush();
      else this.emit('drain');
    });
  }
}
