import t from 'tap';
import { formatNameAddr, parseNameAddr } from '../../../src/sip/message/name-addr.js';
import { ParseError } from '../../../src/sip/message/parse-error.js';

t.test('name-addr with quoted, unquoted and no display name (RFC 3261 §20.10, §25.1)', async (t) => {
  const q = parseNameAddr('"Bob \\"the\\" Builder" <sip:bob@biloxi.example.com>;tag=a6c85cf');
  t.equal(q.displayName, 'Bob "the" Builder', 'quoted-pairs resolved');
  t.equal(q.uri.user, 'bob');
  t.equal(q.params.get('tag'), 'a6c85cf');
  const u = parseNameAddr('Anonymous Caller   <sip:c8oqz84zk7z@privacy.org>');
  t.equal(u.displayName, 'Anonymous Caller');
  const none = parseNameAddr('  <sip:carol@chicago.example.com>  ');
  t.equal(none.displayName, undefined);
  t.equal(none.uri.host, 'chicago.example.com');
  t.equal(none.params.size, 0);
  t.equal(parseNameAddr('"" <sip:x@y>').displayName, '', 'empty quoted display name');
});

t.test('header parameters are separate from URI parameters (RFC 3261 §20.10)', async (t) => {
  const inside = parseNameAddr('<sip:alice@example.com;transport=tcp;lr>;tag=1;expires=60');
  t.same([...inside.uri.params], [['transport', 'tcp'], ['lr', null]]);
  t.same([...inside.params], [['tag', '1'], ['expires', '60']]);
  const addrSpec = parseNameAddr('sip:alice@example.com;transport=tcp;tag=1');
  t.equal(addrSpec.uri.params.size, 0, 'in addr-spec form ; starts header parameters');
  t.same([...addrSpec.params], [['transport', 'tcp'], ['tag', '1']]);
  const spaced = parseNameAddr('sip:alice@example.com ;  tag =  x1');
  t.equal(spaced.params.get('tag'), 'x1', 'LWS around ; and =');
  const quotedParam = parseNameAddr('<sip:a@b>;+sip.instance="<urn:uuid:1-2>";reg-id=1');
  t.equal(quotedParam.params.get('+sip.instance'), '"<urn:uuid:1-2>"', 'quoted values keep their quotes');
});

t.test('formatNameAddr writes the bracketed form and re-parses to the same value', async (t) => {
  const na = parseNameAddr('Alice <sip:alice@example.com;lr>;tag=88;flag');
  t.equal(formatNameAddr(na), '"Alice" <sip:alice@example.com;lr>;tag=88;flag');
  const control = { displayName: 'a"b\\c\x07', uri: parseNameAddr('<sip:x@y>').uri, params: new Map<string, string | null>() };
  t.same(parseNameAddr(formatNameAddr(control)).displayName, 'a"b\\c\x07', 'quote and backslash and control characters escaped');
  t.equal(formatNameAddr(parseNameAddr('sip:a@b;tag=1')), '<sip:a@b>;tag=1');
});

t.test('malformed name-addr values throw ParseError (RFC 4475 §3.1.2.6, §3.1.2.13-15)', async (t) => {
  for (const bad of [
    '',
    '   ',
    '"unterminated <sip:a@b>',
    '"quoted" sip:a@b',
    'Bell, Alexander <sip:a.g.bell@example.com>',
    '< sip:t.watson@example.org >',
    '<sip:a@b',
    'sip:user@example.com?Route=%3Csip:sip.example.com%3E',
    '<sip:a@b>;;;',
    '<sip:a@b>;tag=',
    '<sip:a@b> garbage',
    '<sip:a@b>;p="open',
  ]) {
    t.throws(() => parseNameAddr(bad), ParseError, JSON.stringify(bad));
  }
});
