import { performance } from 'node:perf_hooks';
import Router from '@koa/router';
import Koa, { type Middleware } from 'koa';
import { accountScope, requireToken } from './account-scope.js';
import type { ApiDeps } from './api-deps.js';
import { apiErrors } from './api-error.js';
import type { ApiState } from './api-state.js';
import { jsonBody } from './body-parser.js';
import { errorEnvelope, successEnvelope } from './envelope.js';
import { boardPage, type BoardPage } from './board/board-page.js';
import { buildOpenApi } from './openapi.js';
import { PresenceAdmin } from './presence-admin.js';
import { LoginLimiter } from './login-limiter.js';
import { PresenceOperator } from './presence-operator.js';
import { StreamHub } from './presence-stream.js';
import { mount, type RouteSpec } from './route-spec.js';
import { accountRoutes } from './routes/account-routes.js';
import { authRoutes } from './routes/auth-routes.js';
import { boardRoute } from './routes/board-routes.js';
import { deviceRoutes } from './routes/device-routes.js';
import { operatorRoutes } from './routes/operator-routes.js';
import { opsRoutes } from './routes/ops-routes.js';
import { presenceRoutes } from './routes/presence-routes.js';
import { trustedPeerRoutes } from './routes/trusted-peer-routes.js';
import { userRoutes } from './routes/user-routes.js';

export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;
const DEFAULT_EVENTS = ['dialog', 'presence', 'message-summary'] as const;

/** One router per resource, with the specs each was built from (the OpenAPI document and its test read them). */
export interface ApiRouters {
  routers: { name: string; router: Router<ApiState>; specs: RouteSpec[] }[];
  specs: RouteSpec[];
  /** The live streams, when the operator routes exist: ended by `closeStreams` before the server closes. */
  hub: StreamHub | undefined;
}

/** The live streams of each app, so its server's close can end them first (start-api.ts). */
const hubs = new WeakMap<object, StreamHub>();

/** The app's live streams (tests look at them). */
export function streamHubOf(app: object): StreamHub {
  const hub = hubs.get(app);
  if (!hub) throw new Error('this app has no operator routes');
  return hub;
}

/** Ends the app's open live streams (`event: end`) and refuses new ones: an open stream would hold `server.close()`. */
export function closeStreams(app: object): void {
  hubs.get(app)?.closeAll('shutdown');
}

export function buildRouters(deps: ApiDeps): ApiRouters {
  const { services } = deps;
  const events = deps.events ?? DEFAULT_EVENTS;
  const presence = new PresenceAdmin({
    services,
    presentity: deps.presentity,
    notifier: deps.notifier,
    clock: deps.clock,
    logger: deps.logger,
    events,
    ...(deps.operator ? { feed: deps.operator.feed } : {}),
    ...(deps.clusterList ? { clusterList: deps.clusterList } : {}),
  });
  const hub = deps.operator
    ? new StreamHub({ operator: deps.operator, notifier: deps.notifier, clock: deps.clock, logger: deps.logger, ...(deps.operator.streamLimits ? { limits: deps.operator.streamLimits } : {}) })
    : undefined;
  const operator = deps.operator
    ? new PresenceOperator({
        services,
        presentity: deps.presentity,
        notifier: deps.notifier,
        operator: deps.operator,
        clock: deps.clock,
        ...(deps.clusterList ? { clusterList: deps.clusterList } : {}),
      })
    : undefined;
  const guards = { none: [], token: [requireToken(services)], account: accountScope(services) };
  // Built on first request: converting every route's schemas costs tens of milliseconds that a start (and each test
  // app) need not pay for a document few clients ask for.
  let document: unknown;
  const openapi = (): unknown => (document ??= buildOpenApi(specs));
  const groups: [string, RouteSpec[]][] = [
    ['auth', authRoutes(services, new LoginLimiter({ clock: deps.clock, ...deps.loginLimits }), deps.logger)],
    ['accounts', accountRoutes(services)],
    ['devices', deviceRoutes(services)],
    ['users', userRoutes(services)],
    ['trusted_peers', trustedPeerRoutes(services)],
    // Before presence: `…/presence/stream` must not be read as an extension.
    ...(operator && hub ? ([['operator', operatorRoutes(operator, hub, services, events)]] as [string, RouteSpec[]][]) : []),
    ['presence', presenceRoutes(presence, events)],
    ['operations', opsRoutes(deps.health, deps.metrics, openapi)],
  ];
  const specs = groups.flatMap(([, s]) => s);
  const routers = groups.map(([name, group]) => {
    const router = new Router<ApiState>();
    mount(router, group, guards);
    return { name, router, specs: group };
  });
  return { routers, specs, hub };
}

/** Times each request under its route template (not its raw path, which would explode the label set). */
function timing(deps: ApiDeps): Middleware<ApiState> {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = (ctx as unknown as { _matchedRoute?: unknown })._matchedRoute;
      deps.metrics?.observeRequest(
        ctx.method,
        typeof route === 'string' ? route : 'unmatched',
        ctx.status,
        (performance.now() - started) / 1000,
      );
    }
  };
}

/**
 * Turns what the routers left unanswered into envelopes: 405 (allowedMethods found the path under other verbs and
 * set the Allow header; 501 for verbs no route uses) or 404 `not_found` (no route has the path).
 */
const unrouted: Middleware<ApiState> = async (ctx, next) => {
  await next();
  if (ctx.state.reply !== undefined) return;
  if (ctx.status === 405 || ctx.status === 501) {
    const allow = ctx.response.get('Allow');
    throw apiErrors.methodNotAllowed(allow === '' ? [] : allow.split(/,\s*/));
  }
  if (ctx.body == null && (ctx.status === 404 || !ctx.status)) throw apiErrors.notFound();
};

/** The board's HTML, read at start; without it (a broken install) the API still runs and `/board` answers 404. */
function loadBoardPage(logger: ApiDeps['logger']): BoardPage | undefined {
  try {
    return boardPage();
  } catch (err) {
    logger.error({ err }, 'the BLF board page could not be read: GET /board answers 404');
    return undefined;
  }
}

/**
 * The admin API as a Koa app. Middleware order realises the contract's order of checks: body parse (400) → verb
 * (405, the routers' allowedMethods) → account id format (404) → token (401) → access (403) → resource (404) →
 * validation (400) → action; the last four run inside each route (account-scope.ts, the services).
 */
export function createApiApp(deps: ApiDeps): Koa<ApiState> {
  const app = new Koa<ApiState>();
  app.proxy = false;
  // Every failure is answered by errorEnvelope; what still reaches Koa (a socket that died mid-answer) is logged here.
  app.on('error', (err: unknown) => deps.logger.debug({ err }, 'admin API connection error'));
  const { routers, hub } = buildRouters(deps);
  if (hub) hubs.set(app, hub);
  app.use(errorEnvelope(deps.logger));
  app.use(timing(deps));
  app.use(boardRoute(loadBoardPage(deps.logger)));
  app.use(successEnvelope(deps.logger));
  app.use(jsonBody(deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES));
  app.use(unrouted);
  app.use(routers[0]!.router.allowedMethods());
  for (const { router } of routers) app.use(router.routes());
  return app;
}
