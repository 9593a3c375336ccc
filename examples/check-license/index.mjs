// A product that checks its licence at start: `node examples/check-license/index.mjs [STATE_DIR]`.
// It reads the machine's client state directory (or STATE_DIR) and never writes it. It takes nothing
// from its environment: whoever starts a product controls that.
import { readLicense } from '@volact/client/read';

/** What the product shows, and whether it runs, for each licence state. */
function verdict(status) {
  const until = status.endsAt ? new Date(status.endsAt).toUTCString() : null;
  const edition = status.edition?.name ?? (status.edition ? `edition ${status.edition.number}` : 'this product');
  switch (status.state) {
    case 'licensed':
      return {
        run: true,
        message: `${edition} is activated${until ? ` (valid until ${until}, renewed automatically)` : ''}.`,
      };
    case 'initialGrace':
      return { run: true, message: `${edition} is not activated yet: activate it before ${until}.` };
    case 'ootGrace':
      return { run: true, message: `${edition} must be activated again before ${until}: ${status.reason}.` };
    case 'notification':
      return { run: false, message: `${edition} is not activated (${status.reason}). Ask your administrator.` };
    case 'unlicensed':
      return { run: false, message: `No product key is installed (${status.reason}).` };
    default:
      // a state added by a later volact: treat it as not activated
      return { run: false, message: `Unknown licence state ${status.state}.` };
  }
}

let status;
try {
  status = readLicense({
    stateDir: process.argv[2] || undefined,
    // a product passes the publisher's root built into it: root: PUBLISHER_ROOT_PEM
    // for the repository's tests only: honour VOLACT_TEST_CLOCK and the other test overrides
    ...(process.env.CHECK_LICENSE_TEST_ENV === '1' ? { env: process.env } : {}),
  });
} catch (err) {
  // the state cannot be read (permissions) or is damaged: say so, do not crash
  console.error(`Cannot check the licence: ${err.code ?? ''} ${err.message}`);
  process.exit(2);
}
const { run, message } = verdict(status);
console.log(message);
if (process.env.CHECK_LICENSE_JSON) console.log(JSON.stringify(status));
process.exit(run ? 0 : 1);
