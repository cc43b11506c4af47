/**
 * Import direction (docs: architecture.md):
 *   lib <- sip/message <- sip/parser <- sip/transport <- sip/transaction <- sip/ua, sip/dialog feeding sip/ua;
 *   events/* import only lib and each other; store imports only lib; presentity <- subscriptions;
 *   feed (the hub of resource changes and subscription events) imports lib and store's record types only, so
 *   presentity, subscriptions and api can all emit into it or listen to it without importing each other;
 *   api sits on the services and never touches sip/transport or sip/transaction; stack builds the SIP side (transports,
 *   transactions, UA core, packages, presentity, notifier) in one place, and main.ts wires the stack, the store and api.
 */
const layer = (from, allowed, comment, inner = []) => ({
  name: `${from.replace(/[^a-z]/g, '-')}-imports`,
  comment,
  severity: 'error',
  from: { path: `^src/${from}/`, ...(inner.length > 0 ? { pathNot: inner.map((i) => `^src/${i}/`) } : {}) },
  to: { path: '^src/', pathNot: [`^src/${from}/`, ...allowed.map((a) => `^src/${a}/`)] },
});

module.exports = {
  forbidden: [
    // Type-only imports count too (tsPreCompilationDeps): a cycle of types still ties its files into one unit.
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    // start.ts, the entry of `npm start`, checks the configuration and then loads main.ts.
    { name: 'nothing-imports-main', severity: 'error', from: { pathNot: '^src/start\\.ts$' }, to: { path: '^src/(main|admin|start)\\.ts$' } },
    { name: 'no-tests-from-src', severity: 'error', from: { path: '^src/' }, to: { path: '^test/' } },
    layer('lib', [], 'lib holds leaves only'),
    layer('config', ['lib'], 'config is a leaf'),
    layer('sip/message', ['lib'], 'messages know nothing of parsing or sockets'),
    layer('sip/parser', ['lib', 'sip/message'], 'the parser builds messages'),
    layer('sip/transport', ['lib', 'sip/message', 'sip/parser'], 'transports frame and parse'),
    layer('sip/transaction', ['lib', 'sip/message', 'sip/parser', 'sip/transport'], 'transactions sit on transports'),
    layer('sip/dialog', ['lib', 'sip/message'], 'dialog state is plain data over messages'),
    layer('sip/ua', ['lib', 'sip/message', 'sip/parser', 'sip/transport', 'sip/transaction', 'sip/dialog'], 'the UA core routes requests'),
    layer('events', ['lib'], 'event packages are pure: lib and each other'),
    layer('store', ['lib'], 'the store is a port with its own record types'),
    layer('feed', ['lib', 'store'], 'the feed: event types over store records, on the generic hub in lib'),
    layer('presentity', ['lib', 'events', 'store', 'feed', 'accounts', 'sip/message', 'sip/parser', 'sip/dialog', 'sip/ua'], 'published and manual state'),
    layer(
      'subscriptions',
      ['lib', 'events', 'store', 'feed', 'accounts', 'presentity', 'sip/message', 'sip/parser', 'sip/dialog', 'sip/ua', 'sip/transaction', 'sip/transport'],
      'the notifier',
    ),
    layer('accounts', ['lib', 'store'], 'accounts, devices and users'),
    // Digest authentication and the authorization table (security.md): plain values in, the stack's policy hooks out.
    layer(
      'security',
      ['lib', 'sip/message', 'sip/transport', 'sip/ua', 'accounts', 'store', 'subscriptions', 'presentity'],
      'SIP authentication and authorization: no config, api or stack',
    ),
    layer('security/limits', ['lib', 'sip/message', 'sip/transport', 'sip/ua'], 'abuse limits: policy hooks over transport and UA types, wired by main.ts'),
    layer('history', ['lib', 'store', 'feed', 'events'], 'the per-resource history: an observer of the feed, its rarer kinds in the store'),
    // The cluster engine port and its adapters (cluster.md): record types from the store, nothing of SIP or the API.
    {
      ...layer('cluster', ['lib', 'store'], 'the shared-state engine for cluster mode: a port, its in-memory twin and the Redis adapter', [
        'cluster/node',
        'cluster/directory',
      ]),
      // The engine side never imports the node's or the directory's code.
      to: { path: '^src/', pathNot: ['^src/cluster/(?!node/|directory/)', '^src/lib/', '^src/store/'] },
    },
    // A cluster node's side (shared presence state, island mode): the engine port below it, the services' seams above.
    layer(
      'cluster/node',
      ['lib', 'store', 'cluster', 'feed', 'events', 'presentity', 'sip/message', 'sip/ua'],
      'the node side of cluster mode: over the engine port and the presentity service, never api, config or transports',
    ),
    // The subscription directory (cluster.md §6-§8): listens to the feed, writes through the engine port.
    layer('cluster/directory', ['lib', 'store', 'feed', 'cluster'], 'mirroring, the cluster-wide list, heartbeats and the janitor'),
    layer('cli', ['lib'], 'the support CLI (piston) speaks to the admin API over HTTP only'),
    layer('api', ['lib', 'events', 'store', 'feed', 'history', 'presentity', 'subscriptions', 'accounts', 'config'], 'api never touches transports or transactions'),
    layer('admin', ['lib', 'config', 'store', 'accounts'], 'operator commands on the data directory: no SIP, no API'),
    // The stack is built from the layers below it and handed to main.ts (and the rehearsal, tests, benchmarks); it
    // takes plain values, not the configuration, and knows nothing of the admin API, which sits beside it.
    layer(
      'stack',
      ['lib', 'sip/message', 'sip/parser', 'sip/transport', 'sip/transaction', 'sip/dialog', 'sip/ua', 'events', 'presentity', 'subscriptions', 'accounts', 'store', 'feed'],
      'the SIP stack: every SIP layer and the services, never api or config',
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
