import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { describeClusterTarget } from '../../src/config/cluster-config.js';

t.test('without PISTON_CLUSTER_REDIS_URL there is no cluster and the node name keeps its single-node default', (t) => {
  const c = loadConfig({});
  t.equal(c.cluster, undefined);
  t.match(c.nodeName, /^piston@[^-]*$|^piston@/);
  t.notMatch(c.nodeName, /-5060$/);
  t.end();
});

t.test('a redis:// URL turns cluster mode on; the default node name gains the SIP port so nodes on one host differ', (t) => {
  const c = loadConfig({ PISTON_CLUSTER_REDIS_URL: 'redis://127.0.0.1:6390/2', PISTON_SIP_PORT: '5071' });
  t.same(c.cluster, { redis: { kind: 'url', url: 'redis://127.0.0.1:6390/2' }, startWaitS: 30, janitorGraceS: 30 });
  t.match(c.nodeName, /^piston@.+-5071$/);
  const named = loadConfig({ PISTON_CLUSTER_REDIS_URL: 'rediss://u:secret@redis.example:6380', PISTON_NODE_NAME: 'n1' });
  t.equal(named.nodeName, 'n1', 'an explicit name is kept as given');
  t.equal(named.cluster?.redis.kind, 'url');
  t.notMatch(describeClusterTarget(named.cluster!.redis), /secret/, 'the log form hides the password');
  t.end();
});

t.test('PISTON_CLUSTER_START_WAIT_S: how long a first start waits for Redis, 30 s by default, 0 for not at all', (t) => {
  const url = { PISTON_CLUSTER_REDIS_URL: 'redis://127.0.0.1:6390' };
  t.equal(loadConfig({ ...url, PISTON_CLUSTER_START_WAIT_S: '5' }).cluster?.startWaitS, 5);
  t.equal(loadConfig({ ...url, PISTON_CLUSTER_START_WAIT_S: '0' }).cluster?.startWaitS, 0);
  t.throws(() => loadConfig({ ...url, PISTON_CLUSTER_START_WAIT_S: '-1' }), ConfigError);
  t.throws(() => loadConfig({ ...url, PISTON_CLUSTER_START_WAIT_S: 'soon' }), /PISTON_CLUSTER_START_WAIT_S/);
  t.end();
});

t.test("PISTON_CLUSTER_JANITOR_GRACE_S: how long a dead node's directory entries stay, 30 s by default, 3 to 3600 s", (t) => {
  const url = { PISTON_CLUSTER_REDIS_URL: 'redis://127.0.0.1:6390' };
  t.equal(loadConfig(url).cluster?.janitorGraceS, 30);
  t.equal(loadConfig({ ...url, PISTON_CLUSTER_JANITOR_GRACE_S: '10' }).cluster?.janitorGraceS, 10);
  t.equal(loadConfig({ ...url, PISTON_CLUSTER_JANITOR_GRACE_S: '3' }).cluster?.janitorGraceS, 3, 'the heartbeat TTL is the least');
  t.equal(loadConfig({ ...url, PISTON_CLUSTER_JANITOR_GRACE_S: '3600' }).cluster?.janitorGraceS, 3600);
  for (const bad of ['2', '0', '-5', '3601', '7.5', 'soon']) {
    let caught: unknown;
    try {
      loadConfig({ ...url, PISTON_CLUSTER_JANITOR_GRACE_S: bad });
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof ConfigError && caught.message.includes(`PISTON_CLUSTER_JANITOR_GRACE_S="${bad}"`), `${bad} is refused, naming the variable and the value`);
  }
  t.equal(loadConfig({ PISTON_CLUSTER_JANITOR_GRACE_S: '10' }).cluster, undefined, 'without a cluster URL it changes nothing');
  t.end();
});

t.test('a redis-sentinel:// URL names the sentinels, the master and the database', (t) => {
  const c = loadConfig({ PISTON_CLUSTER_REDIS_URL: 'redis-sentinel://:pw@10.0.0.1:26379,10.0.0.2,[::1]:26380/mymaster/3' });
  t.same(c.cluster?.redis, {
    kind: 'sentinel',
    sentinels: [
      { host: '10.0.0.1', port: 26379 },
      { host: '10.0.0.2', port: 26379 },
      { host: '::1', port: 26380 },
    ],
    name: 'mymaster',
    db: 3,
    password: 'pw',
  });
  t.end();
});

t.test('a bad cluster URL stops the start with a message naming the variable', (t) => {
  for (const bad of ['http://x', 'redis://', 'redis://h:1/abc', 'redis-sentinel://h:1', 'redis-sentinel:///m', 'redis-sentinel://h:99999/m']) {
    let caught: unknown;
    try {
      loadConfig({ PISTON_CLUSTER_REDIS_URL: bad });
    } catch (err) {
      caught = err;
    }
    t.ok(caught instanceof ConfigError && /PISTON_CLUSTER_REDIS_URL/.test(caught.message), bad);
  }
  t.end();
});
