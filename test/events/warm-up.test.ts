import t from 'tap';
import { createDefaultRegistry } from '../../src/events/default-registry.js';
import { EventPackageRegistry, type EventPackage } from '../../src/events/event-package.js';
import { warmUpRound } from '../../src/events/warm-up.js';

/** The default packages, each wrapped to count the calls the warm-up makes. */
function countingRegistry(): { registry: EventPackageRegistry; calls: Map<string, string[]> } {
  const source = createDefaultRegistry();
  const registry = new EventPackageRegistry();
  const calls = new Map<string, string[]>();
  for (const name of source.names()) {
    const pkg = source.get(name)!;
    const log: string[] = [];
    calls.set(name, log);
    const wrapped: EventPackage = {
      ...pkg,
      parsePublication: (body, type) => (log.push('parse'), pkg.parsePublication(body, type)),
      applyPublication: (doc, history, ctx) => (log.push('apply'), pkg.applyPublication(doc, history, ctx)),
      aggregate: (input) => (log.push('aggregate'), pkg.aggregate(input)),
      render: (state, ctx) => (log.push('render'), pkg.render(state, ctx)),
    };
    registry.register(wrapped);
  }
  return { registry, calls };
}

t.test('a warm-up round reads back and renders what every package renders, for every manual state', async (t) => {
  const { registry, calls } = countingRegistry();
  for (let round = 0; round < 6; round++) warmUpRound(registry, round);
  for (const [name, log] of calls) {
    const pkg = registry.get(name)!;
    t.equal(log.filter((c) => c === 'render').length, 12, `${name}: two renders per round`);
    // Each package renders a type it also accepts on PUBLISH (RFC 3903 §6), so the reader is exercised too.
    t.ok(pkg.publishTypes.includes(pkg.contentType), `${name} accepts ${pkg.contentType}`);
    t.equal(log.filter((c) => c === 'parse').length, 6, `${name}: one PUBLISH body read per round`);
    t.equal(log.filter((c) => c === 'apply').length, 6, `${name}: one publication applied per round`);
  }
});

t.test('a warm-up round renders the state it read back (the round trip is real, not a no-op)', async (t) => {
  const registry = createDefaultRegistry();
  const dialog = registry.get('dialog')!;
  const rendered: string[] = [];
  const spy = new EventPackageRegistry().register({
    ...dialog,
    render: (state, ctx) => {
      const body = dialog.render(state, ctx);
      rendered.push(body.toString('utf8'));
      return body;
    },
  });
  warmUpRound(spy, 1); // round 1: manual state `confirmed`
  t.equal(rendered.length, 2);
  for (const body of rendered) t.match(body, /<state>confirmed<\/state>/, 'busy line in both renders');
});
