export * from './host.js';
export * from './host-store.js';
export * from './http.js';
export * from './run-host.js';
export * from './cidr.js';
export * from './machine-counter.js';
export * from './activation-batch.js';
export * from './dns-publisher.js';
export * from './dns-records.js';
export * from './dns-update.js';
export * from './key-store.js';
export { HostActivation, type ActivationStore, type CatalogUpdate, type KeyActivation } from './host-activation.js';
export { settingsFrom, type HostSettings } from './settings.js';
export { readStoredSettings } from './stored-settings.js';
export { buildUsageReport, makeUsageReport, type UsageInput } from './usage-report.js';
export { clientApiDocument } from './api-description.js';
export { verifyHostLog, type LogProblem, type LogReport } from './log-verify.js';
export { verifyLogDir, type LogVerification } from './verify-log-dir.js';
export { checkpointSigner, verifyCheckpoint, type Checkpoint } from './log-checkpoint.js';
export { LogChain, recordHash } from './log-chain.js';
export { HostMetrics, type HostSources } from './metrics.js';
export { DEFAULT_CONSOLE_LISTEN, parseConsoleListen, builtConsoleDir, type ConsoleAddress } from './console-server.js';
export { consoleApiDocument } from './console-api.js';
export { ConsoleTokens, type ConsoleTokenInfo } from './console-tokens.js';
export { selfSignedCertificate, consoleCertificate, fingerprintOf } from './console-cert.js';
export {
  machineFilter,
  machinePage,
  machineSummary,
  eventFilter,
  countHistory,
  sampleCount,
} from './console-queries.js';
export type { ConsoleOptions, RunningConsole } from './console-start.js';
