import type { ChildProcess } from 'node:child_process';
import { after } from 'node:test';

/**
 * Every process a test file starts (volact services and commands, named, slapd), until it exits.
 * A test that fails between starting a process and stopping it would leave the child, and the
 * pipes the harness reads, holding the test file's event loop open: the file would never end and
 * the suite would wait on it with nothing to show. After the file's last test, whatever happened,
 * the ones still running are killed and named on stderr.
 *
 * Only in a test file: scripts that borrow the harness (attack/, run as plain programs, sometimes
 * from a test) must not start node:test, which would print a report of zero tests on their stdout.
 */
const running = new Set<ChildProcess>();

async function killLeftovers(): Promise<void> {
  const left = [...running];
  if (left.length === 0) return;
  process.stderr.write(
    `harness: killing ${left.length} process(es) the tests left running: ${left
      .map((c) =>
        c.spawnargs
          .map((a) => a.replace(/^.*\//, ''))
          .slice(0, 4)
          .join(' '),
      )
      .join('; ')}\n`,
  );
  await Promise.all(
    left.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          if (!child.kill('SIGKILL')) resolve();
        }),
    ),
  );
}

if (/\.test\.[cm]?js$/.test(process.argv[1] ?? '')) after(killLeftovers);

/** Registers a child so that it cannot outlive the test file. */
export function track<T extends ChildProcess>(child: T): T {
  if (child.exitCode !== null || child.signalCode !== null) return child;
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}
