import t from 'tap';
import { ParseError } from '../../../src/sip/message/parse-error.js';
import { formatUri, parseUri } from '../../../src/sip/message/uri.js';

t.test('SIP URI components: user, password, host, port, params, headers (RFC 3261 §19.1.1)', async (t) => {
  const u = parseUri('sips:alice:secret@Atlanta.Example.com:5061;transport=TCP;lr;Maddr=239.255.255.1?subject=project%20x&priority=urgent');
  t.equal(u.scheme, 'sips');
  t.equal(u.user, 'alice');
  t.equal(u.password, 'secret');
  t.equal(u.host, 'Atlanta.Example.com', 'host kept as sent');
  t.equal(u.port, 5061);
  t.same([...u.params], [['transport', 'TCP'], ['lr', null], ['maddr', '239.255.255.1']], 'parameter names lower-cased, values as sent');
  t.same([...u.headers], [['subject', 'project%20x'], ['priority', 'urgent']]);
  t.equal(formatUri(u), 'sips:alice:secret@Atlanta.Example.com:5061;transport=TCP;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent');
});

t.test('%-escapes are kept as sent in user, password and params (RFC 3261 §19.1.4)', async (t) => {
  const u = parseUri('sip:%61lice%40x:p%40ss@example.com;na%6De=v%61l');
  t.equal(u.user, '%61lice%40x');
  t.equal(u.password, 'p%40ss');
  t.equal(u.params.get('na%6de'), 'v%61l');
  t.equal(formatUri(u), 'sip:%61lice%40x:p%40ss@example.com;na%6de=v%61l');
});

t.test('hosts: IPv4, IPv6 reference, no user part, upper-case scheme', async (t) => {
  const v6 = parseUri('sip:[2001:db8::10]:5070;transport=udp');
  t.equal(v6.host, '[2001:db8::10]');
  t.equal(v6.port, 5070);
  t.equal(v6.user, undefined);
  const v4 = parseUri('SIP:192.0.2.4');
  t.equal(v4.scheme, 'sip');
  t.equal(v4.host, '192.0.2.4');
  t.equal(v4.port, undefined);
  t.equal(formatUri(v4), 'sip:192.0.2.4');
  t.equal(parseUri('sip:+1-212-555-1212:1234@gateway.com;user=phone').user, '+1-212-555-1212');
  t.equal(parseUri('sip:+1-212-555-1212:1234@gateway.com;user=phone').password, '1234');
});

t.test('other schemes are kept opaque and format back unchanged (RFC 3261 §19.1, RFC 4475 §3.3.2)', async (t) => {
  for (const text of ['tel:+1-201-555-0123;phone-context=example.com', 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6', 'http://www.example.com/a?b=c', 'isbn:2983792873']) {
    const u = parseUri(text);
    t.equal(u.host, '');
    t.equal(formatUri(u), text, text);
  }
  t.equal(parseUri('Tel:+123').scheme, 'tel');
  t.equal(parseUri('Tel:+123').opaque, '+123');
});

t.test('malformed URIs throw ParseError', async (t) => {
  for (const bad of [
    'sip:',
    'sip:user@',
    'noscheme',
    ':nothing',
    '1sip:a@b',
    'sip:a b@example.com',
    'sip:alice@example.com:99999',
    'sip:alice@example.com:',
    'sip:alice@example.com;;lr',
    'sip:alice@example.com;=x',
    'sip:al%4@example.com',
    'sip:al%GGice@example.com',
    'sip:alice@example.com?',
    'sip:alice@[2001:db8::1',
    'sip:alice@exa mple.com',
    'sip:<alice>@example.com',
    'tel:+1 234',
  ]) {
    t.throws(() => parseUri(bad), ParseError, JSON.stringify(bad));
  }
});
