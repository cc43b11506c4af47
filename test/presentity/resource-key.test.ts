import t from 'tap';
import { entityOf, resourceKey, splitResourceKey } from '../../src/presentity/index.js';
import { domainsOfUser } from '../../src/presentity/resource-key.js';

t.test('resource keys lower-case user and host (RFC 3261 §19.1.4)', async (t) => {
  t.equal(resourceKey('Alice', 'Example.COM'), 'alice@example.com');
  t.equal(resourceKey('*3101', 'pbx.example.com'), '*3101@pbx.example.com');
});

t.test('a resource key splits back into user and domain at the last @', async (t) => {
  t.same(splitResourceKey('1001@example.com'), { user: '1001', domain: 'example.com' });
  t.same(splitResourceKey('a%40b@example.com'), { user: 'a%40b', domain: 'example.com' });
  t.same(splitResourceKey('example.com'), { user: '', domain: 'example.com' });
});

t.test('the entity written in bodies is the sip: URI of the key (RFC 4235 §4.1)', async (t) => {
  t.equal(entityOf('1001@example.com'), 'sip:1001@example.com');
});

t.test('domainsOfUser finds a user part in each domain, and only that exact user part', async (t) => {
  const keys = ['1001@example.com', '1001@127.0.0.1', '10011@example.com', 'x1001@example.com', '1001%40a@example.com', '1002@example.com'];
  t.same(domainsOfUser(keys, '1001'), ['example.com', '127.0.0.1']);
  t.same(domainsOfUser(keys, '1001%40a'), ['example.com'], 'an escaped @ in the user part');
  t.same(domainsOfUser(keys, '9'), []);
});
