import t from 'tap';
import { ListAccountResolver } from '../../src/accounts/account-resolver.js';

t.test('a domain equal to an account realm selects that account, case-insensitively (RFC 3261 §19.1.4)', (t) => {
  const r = new ListAccountResolver(() => [{ id: 'a1', realm: 'one.example' }, { id: 'a2', realm: 'Two.Example' }], false);
  t.same(r.resolve('ONE.example'), { accountId: 'a1', realm: 'one.example' });
  t.same(r.resolve('two.example'), { accountId: 'a2', realm: 'two.example' });
  t.end();
});

t.test('the first account serves unknown domains unless the option is off', (t) => {
  const accounts = [{ id: 'a1', realm: 'one.example' }, { id: 'a2', realm: 'two.example' }];
  t.same(new ListAccountResolver(() => accounts, true).resolve('127.0.0.1'), { accountId: 'a1', realm: '127.0.0.1' });
  t.equal(new ListAccountResolver(() => accounts, false).resolve('127.0.0.1'), undefined);
  t.end();
});

t.test('with no account yet and the default on, every domain is served without an account', (t) => {
  t.same(new ListAccountResolver(() => [], true).resolve('pbx.example'), { accountId: null, realm: 'pbx.example' });
  t.equal(new ListAccountResolver(() => [], false).resolve('pbx.example'), undefined);
  t.end();
});

t.test('refresh picks up accounts created later', (t) => {
  const list: { id: string; realm: string }[] = [];
  const r = new ListAccountResolver(() => list, false);
  t.equal(r.resolve('x.example'), undefined);
  list.push({ id: 'a9', realm: 'x.example' });
  r.refresh();
  t.same(r.resolve('x.example'), { accountId: 'a9', realm: 'x.example' });
  t.end();
});
