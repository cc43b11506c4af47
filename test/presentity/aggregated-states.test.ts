import t from 'tap';
import { createDefaultRegistry } from '../../src/events/default-registry.js';
import type { AggregateInput } from '../../src/events/event-package.js';
import { ManualClock } from '../../src/lib/clock.js';
import { AggregatedStates } from '../../src/presentity/aggregated-states.js';
import { ResourceBook } from '../../src/presentity/resource-book.js';
import { resourceKey } from '../../src/presentity/resource-key.js';

/** AggregatedStates over an empty book, counting how often the registry aggregates. */
function setup() {
  const registry = createDefaultRegistry();
  const book = new ResourceBook();
  let computed = 0;
  const aggregate = registry.aggregate.bind(registry);
  registry.aggregate = (name: string, input: AggregateInput) => {
    computed++;
    return aggregate(name, input);
  };
  const states = new AggregatedStates(book, registry, new ManualClock(0));
  return { states, book, computed: () => computed };
}

const KEY = resourceKey('1000', 'example.com');

t.test('the state before a change of an idle resource comes from the idle cache (RFC 6665 §4.2.2 change detection)', async (t) => {
  const { states, computed } = setup();
  const shown = states.get(KEY, 'dialog');
  t.equal(computed(), 1, 'the first read aggregates');
  const before = states.snapshot(KEY, ['dialog']);
  t.equal(computed(), 1, 'the snapshot reuses the state the watchers were sent');
  t.equal(before.get('dialog'), shown, 'and is that same state');
});

t.test('an idle resource nobody has read yet is aggregated for its snapshot', async (t) => {
  const { states, computed } = setup();
  const before = states.snapshot(KEY, ['dialog', 'presence']);
  t.equal(computed(), 2, 'one aggregate per event');
  t.same([...before.keys()], ['dialog', 'presence']);
  t.same(before.get('presence'), states.get(KEY, 'presence'), 'the same state a read gives');
});

t.test('a refresh that leaves an idle state as it was reports no change, one that sets a manual state does', async (t) => {
  const { states, book } = setup();
  states.get(KEY, 'dialog');
  t.same(states.refresh(KEY, ['dialog'], states.snapshot(KEY, ['dialog'])), [], 'nothing changed');
  const before = states.snapshot(KEY, ['dialog']);
  book.ensure(KEY).manualState = 'confirmed';
  t.same(states.refresh(KEY, ['dialog'], before), ['dialog'], 'the manual state changed what watchers see');
});

t.test('a resource that goes idle keeps the state its change computed: its NOTIFYs and its next change reuse it (RFC 6665 §4.2.2)', async (t) => {
  const { states, book, computed } = setup();
  book.ensure(KEY).manualState = 'confirmed';
  states.refresh(KEY, ['dialog']);
  book.ensure(KEY).manualState = undefined;
  const n = computed();
  t.same(states.refresh(KEY, ['dialog'], states.snapshot(KEY, ['dialog'])), ['dialog'], 'the line went idle');
  const afterRefresh = computed();
  t.equal(afterRefresh - n, 1, 'the refresh aggregates once');
  const shown = states.get(KEY, 'dialog');
  t.equal(computed(), afterRefresh, 'the NOTIFYs read the state the refresh computed');
  t.equal(states.snapshot(KEY, ['dialog']).get('dialog'), shown, 'and the next change compares against that very state');
  t.equal(computed(), afterRefresh, 'without aggregating again');
});
