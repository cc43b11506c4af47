// The admin API (api-contract.md): Koa app factory, listener, metrics.
export { createApiApp, buildRouters, closeStreams, DEFAULT_BODY_LIMIT_BYTES, type ApiRouters } from './create-api-app.js';
export { operatorDeps, type OperatorDeps } from './operator-deps.js';
export { startApi, type RunningApi } from './start-api.js';
export { createApiMetrics, type ApiMetrics, type ApiMetricsOptions } from './metrics.js';
export type { ApiDeps, HealthProbes, PresenceControl, SubscriptionView } from './api-deps.js';
export { GREGORIAN_UNIX_OFFSET, gregorianSeconds } from './presence-view.js';
