import t from 'tap';
import { loadConfig, ConfigError } from '../../src/config/config.js';

t.test('defaults give the documented ports, hosts and data directory', (t) => {
  const c = loadConfig({});
  t.same(c.sip.hosts, ['0.0.0.0', '::']);
  t.equal(c.sip.port, 5060);
  t.equal(c.api.port, 8000);
  t.equal(c.dataDir, './data');
  t.equal(c.logLevel, 'info');
  t.match(c.nodeName, /^piston@/);
  t.same([c.sip.t1, c.sip.t2, c.sip.t4], [500, 4000, 5000], 'RFC 3261 §17 timer defaults');
  t.same(c.subscriptions, { minExpires: 60, maxExpires: 3600, defaultExpires: 3600, allDialogs: false });
  t.equal(c.heapGrowingPercent, 50, 'V8 heap growth capped at 1.5x the live data');
  t.equal(c.warmUpRounds, 2000, 'event packages warmed up after start');
  t.end();
});

t.test('variables override defaults and are typed', (t) => {
  const c = loadConfig({
    PISTON_SIP_PORT: '5070',
    PISTON_SIP_HOST: '127.0.0.1, ::1',
    PISTON_API_PORT: '0',
    PISTON_DATA_DIR: '/tmp/x',
    PISTON_LOG_LEVEL: 'debug',
    PISTON_NODE_NAME: 'blf-1',
    PISTON_DEFAULT_ACCOUNT_FOR_UNKNOWN_DOMAINS: 'false',
    PISTON_BOOTSTRAP_API_KEY: 'AB'.repeat(32),
    PISTON_HEAP_GROWING_PERCENT: '0',
    PISTON_WARM_UP_ROUNDS: '0',
  });
  t.equal(c.sip.port, 5070);
  t.same(c.sip.hosts, ['127.0.0.1', '::1']);
  t.equal(c.api.port, 0);
  t.equal(c.dataDir, '/tmp/x');
  t.equal(c.logLevel, 'debug');
  t.equal(c.nodeName, 'blf-1');
  t.equal(c.accounts.defaultAccountForUnknownDomains, false);
  t.equal(c.api.bootstrapApiKey, 'ab'.repeat(32), 'key normalised to lower case');
  t.equal(c.heapGrowingPercent, 0, '0 leaves V8 its own heuristics');
  t.equal(c.warmUpRounds, 0, 'no warm-up');
  t.end();
});

t.test('bad values stop the start with a message naming each variable', (t) => {
  const err = t.throws(() =>
    loadConfig({
      PISTON_SIP_PORT: '70000',
      PISTON_LOG_LEVEL: 'loud',
      PISTON_SIP_HOST: 'not-an-ip',
      PISTON_BOOTSTRAP_API_KEY: 'xyz',
      PISTON_WARM_UP_ROUNDS: '-1',
    }),
  ) as ConfigError;
  t.type(err, ConfigError);
  const text = err.message;
  for (const name of ['PISTON_SIP_PORT', 'PISTON_LOG_LEVEL', 'PISTON_SIP_HOST', 'PISTON_BOOTSTRAP_API_KEY', 'PISTON_WARM_UP_ROUNDS']) {
    t.match(text, name, `${name} is named`);
  }
  t.end();
});

t.test('inconsistent expiry bounds are rejected', (t) => {
  t.throws(() => loadConfig({ PISTON_SUBSCRIBE_MIN_EXPIRES: '600', PISTON_SUBSCRIBE_MAX_EXPIRES: '300' }), ConfigError);
  t.throws(() => loadConfig({ PISTON_SUBSCRIBE_DEFAULT_EXPIRES: '30' }), ConfigError);
  t.end();
});

t.test('bind addresses must be IP addresses, and the message says so with the variable and the bad value', (t) => {
  const api = t.throws(() => loadConfig({ PISTON_API_HOST: '999.1.1.1' })) as ConfigError;
  t.type(api, ConfigError);
  t.match(api.message, /PISTON_API_HOST="999\.1\.1\.1": "999\.1\.1\.1" is not an IP address/, 'an out-of-range IPv4 is refused at start, not at listen');
  t.notMatch(api.message, /\n\s+at /, 'no stack trace in the message');
  const sip = t.throws(() => loadConfig({ PISTON_SIP_HOST: 'localhost' })) as ConfigError;
  t.match(sip.message, /PISTON_SIP_HOST="localhost": "localhost" is not an IP address/, 'a host name is refused with the reason');
  const mixed = t.throws(() => loadConfig({ PISTON_SIP_HOST: '127.0.0.1, pbx.example.com' })) as ConfigError;
  t.match(mixed.message, /"pbx\.example\.com" is not an IP address/, 'the bad entry of a list is the one named');
  t.notMatch(mixed.message, /"127\.0\.0\.1" is not/, 'the good entry is not');
  const empty = t.throws(() => loadConfig({ PISTON_SIP_HOST: ' , ' })) as ConfigError;
  t.match(empty.message, /PISTON_SIP_HOST=.*at least one IP address/);
  t.equal(loadConfig({ PISTON_API_HOST: '::1' }).api.host, '::1', 'IPv6 is an IP address');
  t.same(loadConfig({ PISTON_SIP_HOST: '127.0.0.1,::1' }).sip.hosts, ['127.0.0.1', '::1']);
  t.end();
});

t.test('TLS and WebSocket settings: WS on at 5066 by default, TLS and WSS only with a certificate and key (transports.md)', (t) => {
  const d = loadConfig({});
  t.equal(d.sip.tls, undefined, 'no certificate, no TLS');
  t.same(d.sip.websocket, { wsPort: 5066, origins: [], pingIntervalMs: 30_000 }, 'WS on, no WSS without a certificate');
  t.equal(d.sip.handshakeTimeoutMs, 10_000, 'TLS handshake and WebSocket upgrade: 10 s');
  const c = loadConfig({
    PISTON_SIP_TLS_CERT: '/etc/piston/cert.pem',
    PISTON_SIP_TLS_KEY: '/etc/piston/key.pem',
    PISTON_SIP_TLS_CA: '/etc/piston/ca.pem',
    PISTON_SIP_TLS_MIN_VERSION: 'TLSv1',
    PISTON_SIP_WS_PORT: 'off',
    PISTON_SIP_WS_ORIGINS: 'https://phone.example.com, https://ops.example.com',
    PISTON_SIP_WS_PING_S: '15',
    PISTON_SIP_HANDSHAKE_TIMEOUT_S: '5',
  });
  t.same(c.sip.tls, { port: 5061, certPath: '/etc/piston/cert.pem', keyPath: '/etc/piston/key.pem', caPath: '/etc/piston/ca.pem', minVersion: 'TLSv1' });
  t.same(c.sip.websocket, { wssPort: 7443, origins: ['https://phone.example.com', 'https://ops.example.com'], pingIntervalMs: 15_000 }, 'WS off, WSS on');
  t.equal(c.sip.handshakeTimeoutMs, 5000);
  t.throws(() => loadConfig({ PISTON_SIP_TLS_CERT: '/c.pem' }), /PISTON_SIP_TLS_CERT and PISTON_SIP_TLS_KEY go together/);
  t.throws(() => loadConfig({ PISTON_SIP_TLS_CA: '/ca.pem' }), /PISTON_SIP_TLS_CA needs/);
  t.throws(() => loadConfig({ PISTON_SIP_TLS_MIN_VERSION: 'SSLv3' }), ConfigError);
  t.throws(() => loadConfig({ PISTON_SIP_WS_PORT: 'on' }), ConfigError);
  t.end();
});

t.test('the abuse limits default to security.md §4.2, and 0 turns one off', (t) => {
  const c = loadConfig({});
  t.same(c.limits, {
    requestsPerWindow: 50,
    windowMs: 2000,
    banMs: 300_000,
    dropScanners: true,
    connectionsPerAddress: 100,
    firstBytesMs: 10_000,
    messageMs: 20_000,
    framerBudgetBytes: 64 * 1024 * 1024,
    peerSendBufferBytes: 64 * 1024 * 1024,
    sendStallMs: 5000,
    subscriptionsPerWatcher: 500,
    subscriptionCeiling: 200_000,
    publicationsPerResource: 20,
    publicationCeiling: 50_000,
  });
  const off = loadConfig({ PISTON_SIP_RATE_REQUESTS: '0', PISTON_SUBSCRIPTIONS_PER_WATCHER: '0', PISTON_SIP_DROP_SCANNERS: 'false' });
  t.equal(off.limits.requestsPerWindow, 0);
  t.equal(off.limits.subscriptionsPerWatcher, 0);
  t.equal(off.limits.dropScanners, false);
  t.throws(() => loadConfig({ PISTON_SIP_RATE_WINDOW_S: '0' }), /PISTON_SIP_RATE_WINDOW_S/);
  t.throws(() => loadConfig({ PISTON_SIP_MAX_CONNECTIONS_PER_IP: '-1' }), /PISTON_SIP_MAX_CONNECTIONS_PER_IP/);
  t.end();
});
