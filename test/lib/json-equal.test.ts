import t from 'tap';
import { jsonEqual } from '../../src/lib/json-equal.js';

// The states the presentity layer compares (RFC 6665 §4.2.2: a NOTIFY only when what the watcher sees changed).
const dialogState = (state: string, extra: Record<string, unknown> = {}) => ({
  format: 'dialog-info',
  dialogs: [{ id: 'd1', state, direction: 'recipient', local: { identity: 'sip:1000@example.com' }, ...extra }],
});

t.test('jsonEqual agrees with comparing JSON.stringify output', async (t) => {
  const values: unknown[] = [
    null,
    true,
    false,
    0,
    1,
    '1',
    '',
    'confirmed',
    [],
    {},
    [1, 2],
    [2, 1],
    [[1], [2]],
    { a: 1 },
    { a: '1' },
    { a: 1, b: 2 },
    { a: [1, { b: null }] },
    { a: [1, { b: false }] },
    { 0: 1 },
    [1],
    dialogState('confirmed'),
    dialogState('terminated'),
    dialogState('confirmed', { remote: { identity: 'sip:2000@example.com' } }),
    { format: 'pidf', tuples: [{ basic: 'open', note: 'On the phone' }] },
    { format: 'pidf', tuples: [{ basic: 'open', note: 'On the Phone' }] },
  ];
  for (const a of values) {
    for (const b of values) {
      t.equal(jsonEqual(a, b), JSON.stringify(a) === JSON.stringify(b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  }
});

t.test('jsonEqual compares copies by content, not identity', async (t) => {
  t.ok(jsonEqual(dialogState('early'), dialogState('early')));
  t.notOk(jsonEqual(dialogState('early'), dialogState('confirmed')), 'a changed dialog state is a change');
});

t.test('jsonEqual ignores key order and properties left undefined, as the serialised text would not show them', async (t) => {
  t.ok(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 }), 'key order');
  t.ok(jsonEqual({ a: 1, note: undefined }, { a: 1 }), 'undefined on the left');
  t.ok(jsonEqual({ a: 1 }, { a: 1, note: undefined }), 'undefined on the right');
  t.notOk(jsonEqual({ a: 1, note: undefined }, { a: 1, note: null }), 'null is a value');
  t.notOk(jsonEqual({ a: 1, b: undefined }, { a: 1, c: 2 }), 'a defined key missing on the left');
});

t.test('jsonEqual tells an array from an object with the same indexes', async (t) => {
  t.notOk(jsonEqual([1], { 0: 1 }));
  t.notOk(jsonEqual({ 0: 1 }, [1]));
  t.notOk(jsonEqual([], {}));
});
