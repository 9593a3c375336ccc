/**
 * The Node I/O every role shares, beside @volact/protocol (which does none): the HTTP server's
 * plumbing (bodies within limits, JSON answers through the one error mapping, a router), the
 * connection guard, one JSON client (requestJson) and the authority's calls on it, and files
 * read within a bound and written atomically.
 */
export {
  DEFAULT_BODY_LIMIT,
  intParam,
  readJson,
  router,
  sendError,
  sendJson,
  validate,
  type Handler,
  type Routes,
} from './http-server.js';
export { observers, requestId, watchRequest, type RequestObserver, type RequestRecord } from './request-observer.js';
export { writeFileAtomic } from './files.js';
export { callAuthority, getFromAuthority, getJson, postJson, type Get, type Post } from './authority-client.js';
export {
  exchangeJson,
  expectAnswer,
  requestJson,
  RequestFailed,
  type Exchange,
  type JsonReply,
  type JsonRequest,
  type RequestFailure,
  type RequestTarget,
} from './request-json.js';
export {
  defaultConnectionLimits,
  guardConnections,
  serverTimeouts,
  type ConnectionLimits,
  type ConnectionStats,
} from './connection-guard.js';
export { makeDir, makeStateDir, readFileBounded } from './files.js';
export { defaultStateDir, stateDirEnv, type PlatformContext, type StateRole } from './default-dirs.js';
export { processClock } from './process-clock.js';
export { listenOn } from './listen.js';
export { adminEndpoint, endpointMayAnswer, listenAdmin, type AdminEndpoint } from './platform.js';
export {
  accessLog,
  defaultLog,
  memoryLog,
  redactedFields,
  roleLogger,
  silentLog,
  type Log,
  type LogEntry,
  type LogRole,
  type RoleLogger,
} from './log.js';
export {
  listenMetrics,
  metricsUrl,
  parseListenSpec,
  parseMetricsListen,
  renderRegistry,
  roleRegistry,
  type MetricsAddress,
  type MetricsListener,
  type MetricsRender,
} from './metrics-listener.js';
export {
  CONSOLE_REFRESH,
  HOST_CONSOLE_COOKIE,
  ConsoleSessions,
  checkConsoleLogin,
  checkConsoleWrite,
  consoleCsp,
  consoleStatic,
  endedSessionCookie,
  sessionCookie,
  setSecurityHeaders,
  type ConsoleIdentity,
  type ConsoleSession,
} from './console-web.js';
