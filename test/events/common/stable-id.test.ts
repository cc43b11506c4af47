import t from 'tap';
import { stableId } from '../../../src/events/common/index.js';

// The expected ids were computed with createHash('sha1').update(entity).digest('hex') before the switch to the
// one-shot crypto.hash: a phone that tracks the idle dialog by id (RFC 4235 §4.1.1) must see the same id after an
// upgrade and a restart, so the value itself is pinned, non-ASCII entities (hashed as UTF-8) included.
t.test('a stable id is the prefix and the first 16 hex digits of the entity SHA-1, the same across calls', async (t) => {
  t.equal(stableId('pp-', 'sip:1001@example.com'), 'pp-dbfa32e90249387c');
  t.equal(stableId('pp-', 'sip:Jöhn@bücher.example'), 'pp-c892fd3218d11ff9');
  t.equal(stableId('pp-', 'sip:1001@example.com'), stableId('pp-', 'sip:1001@example.com'), 'cached ids are the same');
  t.not(stableId('t', 'sip:1001@example.com').slice(1), stableId('pp-', 'sip:1002@example.com').slice(3), 'entities differ');
});
