/**
 * The one table of error codes. Every transport (HTTP answers, CLI exit codes) maps from here.
 * A code once published is never reused or renamed. Messages take {placeholders}.
 */

/** CLI exit codes, one per class of error. */
export const exitCodes = {
  ok: 0,
  internal: 1,
  input: 2,
  key: 3,
  notYet: 4,
  refused: 5,
  unreachable: 6,
  trust: 7,
  limit: 8,
} as const;

type Entry = { status: number; exit: number; message: string; fix: string };

// one line per code: it reads as the table it is
// prettier-ignore
export const errorTable = {
  // --- input -------------------------------------------------------------------------------
  BAD_JSON: { status: 400, exit: exitCodes.input, message: 'the request body is not valid JSON', fix: 'Send one JSON object with Content-Type application/json.' },
  BAD_REQUEST: { status: 400, exit: exitCodes.input, message: 'field {field} {problem}', fix: 'Correct that field; docs/protocol.md lists every field and its type.' },
  BODY_TOO_LARGE: { status: 413, exit: exitCodes.input, message: 'the request body is larger than {limit} bytes', fix: 'Send a smaller body; activation requests are well under 4 KiB.' },
  NOT_FOUND: { status: 404, exit: exitCodes.input, message: 'there is no endpoint {method} {path}', fix: 'See docs/protocol.md for the endpoints.' },
  USAGE: { status: 400, exit: exitCodes.input, message: '{detail}', fix: 'Run volact --help, or volact slmgr -? for the slmgr options.' },
  VALUE_OUT_OF_RANGE: { status: 400, exit: exitCodes.input, message: '{name} must be between {min} and {max}; got {value}', fix: 'Give a value in that range.' },
  CATALOG_INVALID: { status: 400, exit: exitCodes.input, message: 'the catalog is invalid: {detail}', fix: 'Correct the catalog file; docs/operations.md shows its format.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, exit: exitCodes.input, message: 'the request body must be sent as application/json; it came as {type}', fix: 'Send Content-Type: application/json (charset utf-8, or none); volact accepts no forms or plain text, so a web page on another site cannot post to it.' },
  REQUEST_INCOMPLETE: { status: 400, exit: exitCodes.input, message: 'the request body did not arrive whole ({detail})', fix: 'Send the whole body as its Content-Length or chunked framing says, on a connection that stays open until the answer.' },
  BAD_ENCODING: { status: 400, exit: exitCodes.input, message: 'the request body is not valid UTF-8', fix: 'Encode the JSON body as UTF-8.' },
  FILE_TOO_LARGE: { status: 400, exit: exitCodes.input, message: 'the {what} file {file} is larger than {limit} bytes', fix: 'Check the file name: a {what} file is at most {limit} bytes (a device such as /dev/zero or an endless pipe never ends).' },
  CONFIG_INVALID: { status: 400, exit: exitCodes.input, message: 'the settings file {file} is not valid at line {line}: {detail}', fix: 'Correct that line: its keys are the long options of serve (docs/operations.md#settings-files). Nothing was started or stored, so the settings in force stay as they were.' },
  CATALOG_OLDER: { status: 409, exit: exitCodes.refused, message: 'the catalog offered has serial {theirs}, older than serial {ours} in force here', fix: 'Nothing to do: the newer catalog stays. To add editions, take the current one: volact slmgr --host DIR -upd-catalog (or the newest offline bundle).' },
  GROUP_UNKNOWN: { status: 404, exit: exitCodes.input, message: 'there is no product group {group} in the catalog', fix: 'List the groups with volact authority catalog, or import a catalog that has it.' },

  // --- product keys ------------------------------------------------------------------------
  KEY_MALFORMED: { status: 400, exit: exitCodes.key, message: 'a product key has 25 characters in five groups of five; this has {length}', fix: 'Type the whole key as XXXXX-XXXXX-XXXXX-XXXXX-XXXXX.' },
  KEY_BAD_CHARACTER: { status: 400, exit: exitCodes.key, message: "character {position} ('{char}', group {group}) never appears in a product key", fix: 'Keys use only 2-9 and the letters A C D E F G H J K L M N P Q R T U V W X Y; check group {group}.' },
  KEY_TYPO: { status: 400, exit: exitCodes.key, message: 'the product key has a typing mistake: its check character does not match', fix: 'Compare the key with the original character by character and type it again.' },
  KEY_UNKNOWN: { status: 404, exit: exitCodes.key, message: 'this product key is well formed but was never issued by the publisher', fix: 'Check that you have the key from your licence agreement, not one from another publisher.' },
  KEY_HOST_ON_CLIENT: { status: 400, exit: exitCodes.key, message: 'this is an activation host key; it belongs on an activation host, not on a client machine', fix: "Install the edition's public setup key instead (volact authority catalog lists them). Host keys activate at most 6 hosts: keep them off clients." },
  KEY_WRONG_CLASS: { status: 400, exit: exitCodes.key, message: 'a {actual} key cannot be used here; this needs a {expected} key', fix: 'Use a {expected} key.' },
  KEY_NOT_INSTALLED: { status: 409, exit: exitCodes.key, message: 'no product key is installed', fix: 'Install one with volact slmgr -ipk KEY.' },
  CHANNEL_UNAVAILABLE: { status: 409, exit: exitCodes.key, message: 'a {class} key activates through {channel}, which this version does not provide yet', fix: 'Use a setup key with an activation host.' },
  KEY_LIMIT_HOSTS: { status: 409, exit: exitCodes.limit, message: 'this host key has already activated {used} of its {limit} hosts', fix: "Reuse an activated host, or ask the publisher for more hosts on this key (an increase request)." },
  MAK_LIMIT: { status: 409, exit: exitCodes.limit, message: 'this MAK has used {used} of its {limit} activations', fix: 'Ask the publisher for more activations on this MAK (an increase request), or use another MAK.' },
  NO_AUTHORITY: { status: 409, exit: exitCodes.unreachable, message: 'no authority URL is set (MAK activation and creating directory activation objects need one)', fix: 'Set it: volact client trust ROOT.pub --authority URL (or VOLACT_AUTHORITY_URL; slmgr also takes --authority URL).' },
  KEY_LIMIT_ACTIVATIONS: { status: 409, exit: exitCodes.limit, message: 'this host key has used {used} of its {limit} activations', fix: 'Ask the publisher for more activations on this key (an increase request).' },

  // --- DNS publishing and discovery -------------------------------------------------------------
  DNS_TSIG_REJECTED: { status: 502, exit: exitCodes.refused, message: 'the DNS server {server} rejected the TSIG signature for {domain} ({rcode}, {tsigError})', fix: 'The key given with --tsig-key must be the one named.conf has for this host (same name, hmac-sha256, same secret); BADTIME means the clocks differ by more than 5 minutes.' },
  DNS_UPDATE_REFUSED: { status: 502, exit: exitCodes.refused, message: 'the DNS server {server} refused the update of {domain} ({rcode})', fix: 'Allow this host\'s key to update the zone: update-policy { grant KEY zonesub ANY; }; in the zone {domain} of named.conf (or name the right zone with --dns-domain).' },
  DNS_UPDATE_FAILED: { status: 502, exit: exitCodes.unreachable, message: 'the update of {domain} at {server} failed: {detail}', fix: 'Check --dns-server (host:port of the primary server of the zone) and that it is authoritative for {domain}; the host retries with backoff.' },
  DNS_ANSWER_UNSIGNED: { status: 502, exit: exitCodes.trust, message: 'the answer from {server} for {domain} is not signed with our TSIG key', fix: 'Something between the host and the DNS server changed the answer, or it is not the server that has the key; check --dns-server.' },
  NO_HOST_FOUND: { status: 409, exit: exitCodes.unreachable, message: 'no activation host found: {detail}', fix: 'Pin a host with volact slmgr -skms HOST[:PORT], set the lookup domain with -skms-domain DOMAIN, or ask the DNS administrator for the _volact._tcp SRV records of the domain.' },

  // --- offline codes (installation and confirmation IDs) ----------------------------------------
  CODE_MALFORMED: { status: 400, exit: exitCodes.input, message: 'this is not a volact {what}: {detail}', fix: 'Type the whole code as shown, groups of up to eight characters separated by hyphens.' },
  CODE_BAD_CHARACTER: { status: 400, exit: exitCodes.input, message: "group {group} of the {what} has '{char}', which never appears in a code", fix: 'Codes use only 2-9 and the letters A C D E F G H J K L M N P Q R T U V W X Y; retype group {group}.' },
  CODE_GROUP_TYPO: { status: 400, exit: exitCodes.input, message: 'group {group} ({text}) of the {what} has a typing mistake', fix: 'Compare group {group} with the original and type it again; the other groups are correct.' },
  INSTALLATION_ID_INVALID: { status: 400, exit: exitCodes.key, message: 'the installation ID does not belong to an issued key: {detail}', fix: 'Ask the customer to run volact slmgr -dti again and read out the new ID; the key installed there may not be one we issued.' },
  CONFIRMATION_MISMATCH: { status: 400, exit: exitCodes.trust, message: 'this confirmation ID was made for another installation ID ({detail})', fix: 'Give the authority the installation ID this machine shows now (volact slmgr -dti) and apply the confirmation it returns.' },
  CONFIRMATION_UNTRUSTED: { status: 400, exit: exitCodes.trust, message: 'the confirmation ID is not signed by a key of the pinned publisher: {detail}', fix: 'Get the confirmation from your own publisher, and install its current offline bundle (volact client trust volact-offline.json).' },
  OFFLINE_BUNDLE_MISSING: { status: 409, exit: exitCodes.trust, message: 'no offline bundle is installed in {dir}', fix: 'Copy the publisher\'s offline bundle here and install it: volact client trust volact-offline.json (on a host: volact host serve --root volact-offline.json).' },

  // --- directory activation (LDAP) ----------------------------------------------------------------
  DIRECTORY_NOT_CONFIGURED: { status: 409, exit: exitCodes.input, message: 'no directory is set for this machine', fix: 'Join it: volact client directory --ldap-url ldap://DC1,ldap://DC2 --ldap-base SUFFIX --bind-dn MACHINE-ACCOUNT-DN --password-file FILE (the -ad-* and -ao-* commands also take these options).' },
  DIRECTORY_UNREACHABLE: { status: 502, exit: exitCodes.unreachable, message: 'no directory server answered: {detail}', fix: 'Check the URLs and the network. A machine away from the office keeps its directory activation until its 180 days run out.' },
  DIRECTORY_ACTIVATION_KEPT: { status: 502, exit: exitCodes.unreachable, message: 'the directory could not be read now ({detail}); the directory activation from {name} stays valid until {until}', fix: 'Nothing to do away from the office: the machine reads the directory again at its next start and at every retry interval (2 hours by default) until it can. On the office network, check the cause named here.' },
  DIRECTORY_BIND_REFUSED: { status: 403, exit: exitCodes.refused, message: 'the directory {url} refused the account {dn} ({detail})', fix: 'The account is removed, disabled or its password changed. Ask the directory administrator, or set the password again with volact client directory --password-file FILE.' },
  DIRECTORY_PLAIN_BIND_REFUSED: { status: 400, exit: exitCodes.trust, message: 'refusing to send the password of {dn} in clear to {url} ({address}): the server offers neither LDAPS nor StartTLS', fix: 'Use an ldaps:// URL or turn on StartTLS at the server (TLSCertificateFile); only on a network you trust, pass --allow-plain-bind.' },
  DIRECTORY_TLS_FAILED: { status: 502, exit: exitCodes.trust, message: 'TLS with the directory {url} failed: {detail}', fix: "Give the CA certificate that signed the directory server's certificate (--ldap-ca FILE, with volact client directory or slmgr -ad-* and -ao-*), and use a name or address that certificate lists in the URL." },
  DIRECTORY_SCHEMA_MISSING: { status: 409, exit: exitCodes.input, message: 'the directory {url} does not have the volact schema (no object class volactActivationObject)', fix: 'Install it as the directory administrator: ldapadd -Y EXTERNAL -H ldapi:/// -f ldap/volact.ldif (cn=config), or include ldap/volact.schema in slapd.conf; see docs/operations.md#directory-activation.' },
  DIRECTORY_CONTAINER_MISSING: { status: 409, exit: exitCodes.input, message: 'the container {dn} does not exist and {bindDn} may not create it ({detail})', fix: 'Create it as the directory administrator: sed s/SUFFIX/YOUR-SUFFIX/ ldap/volact-containers.ldif | ldapadd -x -D ADMIN-DN -W' },
  DIRECTORY_READ_ONLY: { status: 409, exit: exitCodes.refused, message: 'the directory server {url} is a read-only replica; activation objects can only be written on the writable server {writable}', fix: 'Run the command against the writable server: --ldap-url {writable}.' },
  DIRECTORY_ACCESS_DENIED: { status: 403, exit: exitCodes.refused, message: 'the directory does not let {dn} {what}', fix: 'Bind as a member of the volact-admins group (ldap/volact-acl.conf) to create or delete activation objects.' },
  DIRECTORY_OBJECT_NAME: { status: 400, exit: exitCodes.input, message: 'activation object name {name} is not allowed: {problem}', fix: 'Use 1 to 40 letters, digits, spaces and . _ - (like office-2026).' },
  DIRECTORY_OBJECT_EXISTS: { status: 409, exit: exitCodes.input, message: 'an activation object named {name} already exists in this directory', fix: 'Choose another name, or delete the old one first with volact slmgr -del-ao {name}.' },
  DIRECTORY_OBJECT_UNKNOWN: { status: 404, exit: exitCodes.input, message: 'there is no activation object named {name} in this directory', fix: 'List them with volact slmgr -ao-list.' },
  DIRECTORY_OBJECT_FOREIGN: { status: 400, exit: exitCodes.trust, message: 'the activation object {name} was made for another directory ({theirs}; this one is {ours})', fix: 'An object cannot be copied between directories; create one for this directory with volact slmgr -ad-activation-online HOST-KEY NAME.' },
  DIRECTORY_OBJECT_INVALID: { status: 400, exit: exitCodes.trust, message: 'the activation object {name} is not valid: {detail}', fix: 'Delete it (volact slmgr -del-ao {name}) and create a new one with volact slmgr -ad-activation-online HOST-KEY NAME.' },
  DIRECTORY_NO_OBJECT: { status: 409, exit: exitCodes.refused, message: 'the directory has no activation object for edition {edition}: {detail}', fix: 'Ask the directory administrator to create one (volact slmgr -ad-activation-online HOST-KEY NAME with a host key for this edition), or let this machine use an activation host (volact slmgr -act-type 0).' },

  // --- automatic VM activation (hypervisor agent and guests) -----------------------------------
  KEY_DATACENTER_ON_CLIENT: { status: 400, exit: exitCodes.key, message: 'this is a datacenter key; it belongs on a hypervisor agent, not on a client machine', fix: "Inside a virtual machine install the edition's public VM key (volact authority catalog lists them); install the datacenter key on the virtualization host: volact slmgr --hypervisor DIR -ipk KEY." },
  HYPERVISOR_NOT_ACTIVATED: { status: 503, exit: exitCodes.refused, message: 'the hypervisor agent has not been activated with the publisher', fix: 'On the virtualization host: volact slmgr --hypervisor DIR -ipk DATACENTER-KEY, then -ato (or -dti and -atp offline).' },
  VM_INVALID_HOST: { status: 502, exit: exitCodes.trust, message: 'the hypervisor agent at {address} cannot activate this guest (invalid host): {detail}', fix: "Activate the agent on the virtualization host with a datacenter key from your publisher (volact slmgr --hypervisor DIR -ato); a guest accepts only an agent certified by the pinned root." },
  VM_INVALID_DATA: { status: 400, exit: exitCodes.trust, message: 'the automatic VM activation data is invalid: {detail}', fix: 'The request or the answer was malformed or changed on the way. Try again (volact slmgr -ato); if it persists, update volact on the guest and on the virtualization host.' },
  VM_DENIED: { status: 403, exit: exitCodes.refused, message: 'the hypervisor agent denied activation ({reason}): {detail}', fix: "edition: the agent's datacenter key does not cover this edition (install a VM key of a covered edition, or a datacenter key that covers it on the agent); inventory: the agent's inventory has no VM with this UUID; interface: the request did not come from a network interface of that VM. The hoster sees every request with volact hypervisor guests and events." },
  NOT_A_VM: { status: 409, exit: exitCodes.unreachable, message: 'no hypervisor agent answers at {address} ({reason}): automatic VM activation works only in a virtual machine of an activated volact hypervisor', fix: 'Run this machine as a guest whose network interface is on the guest bridge of a virtualization host with a running, activated agent (volact hypervisor serve); on a physical machine use a setup key or a MAK instead.' },
  VM_UUID_UNREADABLE: { status: 409, exit: exitCodes.input, message: "cannot read this machine's VM UUID from {file}: {reason}", fix: 'Run the activation as root (the SMBIOS product UUID is readable by root only), or name a file holding it with VOLACT_VM_UUID_FILE.' },
  GROUP_NO_GUEST_EDITIONS: { status: 400, exit: exitCodes.input, message: 'product group {group} has no edition that may run as a guest, so a datacenter key for it would activate nothing', fix: 'Mark its guest editions with "guest": true in the catalog file and import it again (volact authority catalog lists VM keys), or name a group that has guest editions.' },
  INVENTORY_UNAVAILABLE: { status: 503, exit: exitCodes.input, message: 'the VM inventory cannot be read ({source}): {detail}', fix: "Check the inventory: for --inventory static:FILE the file's JSON (docs/operations.md#automatic-vm-activation); for libvirt that virsh runs for this user (virsh -c URI list --all)." },
  HYPERVISOR_ALREADY_RUNNING: { status: 409, exit: exitCodes.refused, message: 'a hypervisor agent already runs on {dir}', fix: 'Stop it first; one state directory serves one agent process.' },
  HYPERVISOR_UNAVAILABLE: { status: 502, exit: exitCodes.unreachable, message: 'the hypervisor agent in {dir} is not running (no admin socket)', fix: 'Start it with volact hypervisor serve --state {dir}.' },

  // --- admin API ---------------------------------------------------------------------------------
  TOKEN_MISSING: { status: 401, exit: exitCodes.refused, message: 'this endpoint needs a bearer token', fix: 'Send Authorization: Bearer TOKEN; create tokens with volact authority token create --scope SCOPE on the authority, volact host token create on an activation host.' },
  TOKEN_INVALID: { status: 401, exit: exitCodes.refused, message: 'the bearer token is not valid (unknown, revoked or malformed)', fix: 'Check the token, or create a new one: volact authority token create on the authority, volact host token create on an activation host.' },
  TOKEN_SCOPE: { status: 403, exit: exitCodes.refused, message: 'the token has scopes {scopes}; this needs {needed}', fix: 'Use a token with the {needed} scope: volact authority token create --scope {needed} on the authority, volact host token create --scope admin on an activation host.' },
  INSECURE_URL: { status: 400, exit: exitCodes.input, message: 'refusing to send a token over plain HTTP to {address}', fix: 'Use the https:// URL of the authority; plain HTTP is only for an authority on this machine (loopback).' },
  SESSION_EXPIRED: { status: 401, exit: exitCodes.refused, message: 'your console session has ended (logged out, timed out or its token revoked)', fix: 'Log in again with a token.' },
  CSRF_REFUSED: { status: 403, exit: exitCodes.refused, message: 'this change did not come with the console page\'s CSRF token', fix: 'Reload the console and try again; changes are taken only from the console page itself.' },
  CROSS_SITE_REFUSED: { status: 403, exit: exitCodes.refused, message: 'a change sent from another site ({origin}) is refused', fix: 'Make changes from the console page itself; other sites cannot act with your console session.' },
  TLS_REQUIRED: { status: 400, exit: exitCodes.input, message: 'refusing to serve plain HTTP on {address}', fix: 'Give --tls-cert and --tls-key, listen on a loopback address, or pass --behind-tls-proxy when a TLS proxy on this machine terminates TLS.' },

  // --- activation host answers ----------------------------------------------------------------
  COUNT_INSUFFICIENT: { status: 200, exit: exitCodes.notYet, message: 'the host has seen {count} of the {required} machines it needs', fix: 'Nothing to do: this machine retries every {retryMinutes} minutes and activates once {required} machines have asked.' },
  EDITION_NOT_COVERED: { status: 403, exit: exitCodes.refused, message: 'this activation host cannot activate edition {edition}: its host keys cover {groups}', fix: 'Install a host key for a product group that covers this edition on the host, or point this machine at another host.' },
  CLOCK_SKEW: { status: 403, exit: exitCodes.refused, message: "this machine's clock differs from the host's by {minutes} minutes; at most 240 are allowed", fix: 'Set the clock of this machine (or of the host) right, e.g. with NTP; time zones do not matter.' },
  HOST_NOT_ACTIVATED: { status: 503, exit: exitCodes.refused, message: 'the activation host has not been activated with the publisher', fix: 'On the host: volact slmgr --host DIR -ipk HOST-KEY, then -ato.' },
  NETWORK_NOT_SERVED: { status: 403, exit: exitCodes.refused, message: 'this activation host does not serve the network of {address}', fix: "Add the network to the host's --serve-networks, or use a host on your own network." },
  NO_HOST: { status: 409, exit: exitCodes.unreachable, message: 'no activation host is set for this machine', fix: 'Set one with volact slmgr -skms HOST[:PORT].' },
  HOST_UNREACHABLE: { status: 502, exit: exitCodes.unreachable, message: 'could not reach the activation host at {target}: {reason}', fix: 'Check that the host runs and its port is open (volact slmgr --host DIR -dlv on the host).' },
  AUTHORITY_UNREACHABLE: { status: 502, exit: exitCodes.unreachable, message: 'could not reach the authority at {target}: {reason}', fix: 'Check the authority URL and the network; the host needs the authority only to activate.' },
  REQUEST_UNKNOWN: { status: 404, exit: exitCodes.input, message: 'there is no request or host {id} for this key', fix: 'Check the ID (volact authority requests lists them on the publisher side).' },
  REQUEST_DECIDED: { status: 409, exit: exitCodes.input, message: 'request {id} is already {state}', fix: 'A request is decided once; the customer can file a new one.' },
  RATE_LIMITED: { status: 429, exit: exitCodes.unreachable, message: 'too many requests from {what}; at most {limit} a minute', fix: 'Try again in {retryAfter} seconds (the Retry-After header says the same); an operator activating in bulk should use proxy activation.' },
  TOO_MANY_CONNECTIONS: { status: 503, exit: exitCodes.unreachable, message: 'too many open connections from {what}; at most {limit}', fix: 'Try again in {retryAfter} seconds and close connections you do not use; behind a proxy or NAT, raise the limit (--max-connections-per-address) or set it to 0.' },
  ADMIN_UNAVAILABLE: { status: 502, exit: exitCodes.unreachable, message: 'the activation host in {dir} is not running (no admin socket)', fix: 'Start it with volact host serve --state {dir}.' },
  REARM_LIMIT: { status: 409, exit: exitCodes.refused, message: 'this machine has no rearms left (it had {limit})', fix: 'Install the product again, or activate instead of rearming.' },
  AUTHORITY_EXISTS: { status: 409, exit: exitCodes.input, message: '{dir} already holds an authority', fix: 'Use that authority, or pick another --dir; its keys are never overwritten.' },
  ROOT_KEY_OFFLINE: { status: 409, exit: exitCodes.input, message: 'the root private key {path} is not here', fix: 'Bring root.key back from offline storage for this step, then move it off again.' },
  ROOT_MISMATCH: { status: 409, exit: exitCodes.trust, message: '{path} pins another publisher root', fix: 'If the publisher really changed its root, remove that file first; otherwise pass the root.pub you pinned before.' },
  PRIORITY_UNAVAILABLE: { status: 409, exit: exitCodes.refused, message: 'the activation host cannot set its priority to {priority} ({reason})', fix: 'A process that is not root may lower its priority but not raise it again: give the service LimitNICE=+0 (the units in packaging/systemd do) or CAP_SYS_NICE, or run it as an administrator. The setting was not changed.' },
  HOST_ALREADY_RUNNING: { status: 409, exit: exitCodes.refused, message: 'an activation host already runs on {dir}', fix: 'Stop it first; one state directory serves one host process (its counts live in memory too).' },
  STATE_UNAVAILABLE: { status: 500, exit: exitCodes.internal, message: 'cannot use the state directory {dir}: {reason}', fix: 'Check that it exists and this user may write it, or give another (--state DIR; for the authority --dir DIR).' },
  FINGERPRINT_UNAVAILABLE: { status: 500, exit: exitCodes.internal, message: "cannot read this machine's identity: {command}: {reason}", fix: 'Run that command by hand to see why. Where it cannot run (a locked-down PowerShell, a sandbox), give the fingerprint in a file: VOLACT_FINGERPRINT_FILE (docs/operations.md, Machine ID and fingerprint).' },
  PORT_UNAVAILABLE: { status: 409, exit: exitCodes.refused, message: 'cannot listen on port {port}: {reason}', fix: 'Pick a free port, or stop what uses it; the host keeps its old port.' },
  NOT_READY: { status: 503, exit: exitCodes.unreachable, message: 'not ready: {reason}', fix: 'Liveness (/v1/health) is fine; this role cannot do its job yet. Fix the reason named (an activation host: volact slmgr --host DIR -ato; an authority: import a catalog, check its database), and readiness follows without a restart.' },
  AUTHORITY_NOT_READY: { status: 503, exit: exitCodes.internal, message: 'the authority is not initialised: {detail}', fix: 'Run volact authority init --dir DIR and import a catalog.' },

  // --- trust (signed documents and the chain) ---------------------------------------------------
  ENVELOPE_MALFORMED: { status: 400, exit: exitCodes.trust, message: 'a signed document is malformed: {detail}', fix: 'The answer was damaged or forged; try again, and report it if it persists.' },
  ENVELOPE_ALG: { status: 400, exit: exitCodes.trust, message: 'a document is signed with algorithm {alg}; only EdDSA is accepted', fix: 'The answer was forged or damaged; use a genuine volact host.' },
  DOCUMENT_TYPE: { status: 400, exit: exitCodes.trust, message: 'expected a {expected} document but got {actual}', fix: 'The answer was forged or damaged; use a genuine volact host.' },
  DOCUMENT_VERSION: { status: 400, exit: exitCodes.trust, message: 'document {type} has version {version}, which this version of volact does not read', fix: 'Update volact on this machine.' },
  DOCUMENT_INVALID: { status: 400, exit: exitCodes.trust, message: 'a {type} document has invalid content: {detail}', fix: 'The answer was forged or damaged; use a genuine volact host.' },
  SIGNATURE_INVALID: { status: 400, exit: exitCodes.trust, message: 'the signature on a {type} document does not verify', fix: 'The document was changed after signing; use a genuine volact host.' },
  CHAIN_UNTRUSTED_ROOT: { status: 400, exit: exitCodes.trust, message: 'the issuing key {kid} is certified by root {root}, not by the pinned publisher root', fix: "This host was activated by another publisher's authority; use your publisher's host or pin the right root." },
  ISSUER_NOT_CERTIFIED: { status: 400, exit: exitCodes.trust, message: 'a {type} document is signed by key {kid}, which is not a certified issuing key', fix: 'The document was not made by the publisher; use a genuine volact host.' },
  ISSUER_WRONG_PURPOSE: { status: 400, exit: exitCodes.trust, message: 'issuing key {kid} may sign {purpose} documents, not {needed}', fix: 'The document was not made by the publisher; use a genuine volact host.' },
  ISSUER_EXPIRED: { status: 400, exit: exitCodes.trust, message: 'issuing key {kid} is valid from {notBefore} to {notAfter}', fix: "Reactivate the host so it gets a certificate from a current issuing key." },
  ANSWER_MACHINE_MISMATCH: { status: 400, exit: exitCodes.trust, message: 'the answer is for machine {theirs}, not this machine ({ours})', fix: 'Ask again; if it persists the host is misbehaving.' },
  ANSWER_REPLAYED: { status: 400, exit: exitCodes.trust, message: 'the answer does not carry the nonce of this request (an old or replayed answer)', fix: 'Ask again; if it persists something between you and the host replays answers.' },
  ANSWER_EDITION_NOT_CERTIFIED: { status: 400, exit: exitCodes.trust, message: "the host granted edition {edition}, which its certificate does not cover", fix: 'The host is misconfigured or forged; use another host.' },
  HOST_CERT_MISMATCH: { status: 400, exit: exitCodes.trust, message: 'the certificate does not belong to the key that signed the answer ({detail})', fix: 'The host is misconfigured or forged; use another host.' },
  ROOT_NOT_PINNED: { status: 500, exit: exitCodes.trust, message: 'no publisher root key is pinned in {dir}', fix: 'Pin it: volact client trust ROOT.pub (the root.pub from your publisher).' },
  LOG_TAMPERED: { status: 409, exit: exitCodes.trust, message: 'the host log in {file} was changed: {kind} {seq} {problem} ({detail})', fix: 'Keep host.db (with its -wal file) as evidence and compare it with a backup; docs/operations.md#verifying-the-host-log says what each finding means. The host goes on serving: its counts do not depend on the log.' },
  LOG_KEY_MISMATCH: { status: 409, exit: exitCodes.trust, message: 'the host key in {file} is not the one the host certificate names ({detail})', fix: 'Run verify-log on the host\'s own state directory; restore host.key from a backup if it was replaced.' },
  LOG_UNAVAILABLE: { status: 409, exit: exitCodes.refused, message: 'the host log in {file} cannot be verified: {detail}', fix: 'Give the host\'s state directory (--state DIR); a host.db made by an older version is chained when this version of volact host serve starts on it.' },

  // --- usage reports (a host's counts sent to the publisher) -----------------------------------
  USAGE_PERIOD_INVALID: { status: 400, exit: exitCodes.input, message: 'the report period is not valid: {detail}', fix: 'Give --from and --to as YYYY-MM or YYYY-MM-DD (UTC days; a month means all of it), --from not after --to, at most 120 months, and not starting in the future.' },
  USAGE_REPORT_INVALID: { status: 400, exit: exitCodes.trust, message: 'the usage report is not valid: {detail}', fix: 'Ask the customer for the file exactly as volact host usage-report wrote it (a report changed after signing never verifies), or for a new one.' },
  USAGE_REPORT_HOST_UNKNOWN: { status: 404, exit: exitCodes.trust, message: 'the usage report comes from host {hostId}, which this authority never activated', fix: 'Upload it to the authority that activated that host: its certificate chains to our root, but this authority has no record of activating its host key (another node with its own database, or a restored backup older than the activation).' },

  // --- internal --------------------------------------------------------------------------------
  STATE_CORRUPT: { status: 500, exit: exitCodes.internal, message: 'local state {file} cannot be read: {detail}', fix: 'Restore {file} from a backup; docs/operations.md#damaged-state says what to do for each file (a client can also activate again with volact slmgr -ato).' },
  FAKE_CLOCK_REFUSED: { status: 500, exit: exitCodes.internal, message: 'a test clock was requested outside test mode', fix: 'Unset VOLACT_TEST_CLOCK; test clocks work only with NODE_ENV=test.' },
  INTERNAL: { status: 500, exit: exitCodes.internal, message: 'an internal error occurred (request {requestId})', fix: 'Retry; if it persists, report it with the request ID and the log.' },
} as const satisfies Record<string, Entry>;

export type ErrorCode = keyof typeof errorTable;
export type ErrorParams = Record<string, string | number>;

/** Fills {placeholders}; unknown ones stay visible rather than vanish. */
export function fill(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** The one thrown error type: a code from the table plus parameters for its message. */
export class VolactError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly params: ErrorParams = {},
  ) {
    super(fill(errorTable[code].message, params));
    this.name = 'VolactError';
  }
  get status(): number {
    return errorTable[this.code].status;
  }
  get exit(): number {
    return errorTable[this.code].exit;
  }
  get fix(): string {
    return fill(errorTable[this.code].fix, this.params);
  }
}

export type ErrorBody = { code: ErrorCode; message: string; fix: string; params: ErrorParams; requestId?: string };

export function errorBody(err: VolactError, requestId?: string): ErrorBody {
  const body: ErrorBody = { code: err.code, message: err.message, fix: err.fix, params: err.params };
  if (requestId) body.requestId = requestId;
  return body;
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(errorTable, code);
}

/** Rebuilds a VolactError from an error body received over the wire. */
export function fromErrorBody(body: unknown): VolactError | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const { code, params } = body as { code?: unknown; params?: unknown };
  if (!isErrorCode(code)) return undefined;
  const safe: ErrorParams = {};
  if (params && typeof params === 'object') {
    for (const [k, v] of Object.entries(params)) if (typeof v === 'string' || typeof v === 'number') safe[k] = v;
  }
  return new VolactError(code, safe);
}
