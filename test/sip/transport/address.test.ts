import t from 'tap';
import { literalFirstLookup } from '../../../src/sip/transport/address.js';

t.test('an IP literal is answered at once, with its family: a datagram does not wait a tick for its lookup', async (t) => {
  const answers: [string, number][] = [];
  literalFirstLookup('127.0.0.1', { family: 4 }, (err, address, family) => {
    t.equal(err, null);
    answers.push([address, family]);
  });
  literalFirstLookup('::1', { family: 6 }, (_err, address, family) => answers.push([address, family]));
  t.same(answers, [['127.0.0.1', 4], ['::1', 6]], 'both answered before the calls returned');
});

t.test('a host name is still resolved by dns.lookup, after the call returns', async (t) => {
  let answered = false;
  const result = new Promise<[string, number]>((resolve, reject) =>
    literalFirstLookup('localhost', { family: 4 }, (err, address, family) => {
      answered = true;
      if (err) reject(err);
      else resolve([address, family]);
    }),
  );
  t.equal(answered, false, 'not answered synchronously');
  const [address, family] = await result;
  t.equal(family, 4);
  t.equal(address, '127.0.0.1');
});
