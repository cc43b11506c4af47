import t from 'tap';
import { detach, StringPool } from '../../src/lib/strings.js';

t.test('detach keeps the value of short, long and non-ASCII strings', async (t) => {
  const message = 'SUBSCRIBE sip:1000@example.com SIP/2.0\r\nCall-ID: 3848276298220188511@atlanta.example.com\r\nFrom: "Zoë" <sip:zoë@example.com>\r\n';
  for (const [start, end] of [[10, 14], [50, 95], [104, 125]] as const) {
    const part = message.slice(start, end);
    t.equal(detach(part), part);
  }
  t.equal(detach(''), '');
});

t.test('a string pool hands out one copy per value and stops remembering at its limit', async (t) => {
  const pool = new StringPool(2);
  const a1 = pool.intern('x'.repeat(20).slice(1));
  const a2 = pool.intern('x'.repeat(19));
  t.equal(a1, a2);
  t.equal(pool.size, 1);
  pool.intern('example.com');
  pool.intern('example.net');
  t.equal(pool.size, 2, 'the third distinct value is not remembered');
  t.equal(pool.intern('example.net'), 'example.net', 'but still returned');
});
