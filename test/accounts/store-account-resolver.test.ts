import t from 'tap';
import { createAccountServices } from '../../src/accounts/account-services.js';
import { bootstrap } from '../../src/accounts/bootstrap.js';
import { ManualClock } from '../../src/lib/clock.js';
import { createMemoryStore } from '../../src/store/memory/index.js';

t.test('the resolver over the accounts store maps realms to accounts and follows changes', async (t) => {
  const store = createMemoryStore();
  const clock = new ManualClock();
  const master = bootstrap(store, { clock, realm: 'master.example' }).accountId;
  const services = createAccountServices({ store, clock, defaultAccountForUnknownDomains: true, scryptCost: 1024 });
  t.strictSame(services.resolver.resolve('MASTER.example'), { accountId: master, realm: 'master.example' });
  t.strictSame(services.resolver.resolve('192.0.2.1'), { accountId: master, realm: '192.0.2.1' }, 'first account takes unknown domains');
  clock.advance(1);
  const child = services.accounts.create(master, master, { name: 'c', realm: 'c.example' });
  t.strictSame(services.resolver.resolve('c.example'), { accountId: child.id, realm: 'c.example' }, 'refreshed on create');
  services.accounts.update(master, child.id, { name: 'c', realm: 'd.example' });
  t.strictSame(services.resolver.resolve('d.example'), { accountId: child.id, realm: 'd.example' }, 'and on update');
  services.accounts.delete(child.id, master);
  t.equal(services.resolver.resolve('d.example')?.accountId, master, 'and on delete');
});

t.test('without the default, unknown domains are refused', async (t) => {
  const store = createMemoryStore();
  const clock = new ManualClock();
  bootstrap(store, { clock, realm: 'master.example' });
  const services = createAccountServices({ store, clock, defaultAccountForUnknownDomains: false });
  t.equal(services.resolver.resolve('other.example'), undefined);
});
