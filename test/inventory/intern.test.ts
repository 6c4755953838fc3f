// The scan's interner: equal sentences and lists held once, shared lists read-only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Interner, internerFor } from '../../src/inventory/intern.ts';

// Which copy of a string is handed out is not observable in JavaScript (strings compare by value); what sharing
// saves is measured in docs/benchmarks.md. These check that interning never changes a value.
test('strings: an equal string comes back for every string, however it was built', () => {
  const i = new Interner();
  const a = ['token of ', 'ns/web'].join('');
  const b = ['token of ns', '/web'].join('');
  assert.equal(i.string(a), a);
  assert.equal(i.string(b), a);
  assert.equal(i.string('other'), 'other');
});

test('lists: shared when equal in content and order, frozen, never confused by separators', () => {
  const i = new Interner();
  const ab = i.list(['a', 'b']);
  assert.equal(i.list(['a', 'b']), ab);
  assert.notEqual(i.list(['b', 'a']), ab);
  assert.deepEqual(i.list(['a,b']), ['a,b']);
  assert.notEqual(i.list(['a\u0000b']), i.list(['a', 'b']));
  assert.notEqual(i.list([]), i.list(['']));
  assert.ok(Object.isFrozen(ab));
  assert.throws(() => (ab as string[]).push('c'), TypeError);
  const src = ['x'];
  const kept = i.list(src);
  src.push('y');
  assert.deepEqual(kept, ['x'], 'a copy: later changes to the argument do not leak in');
});

test('one interner per owner (per inventory): scans do not share values', () => {
  const inv1 = {}, inv2 = {};
  assert.equal(internerFor(inv1), internerFor(inv1));
  assert.notEqual(internerFor(inv1), internerFor(inv2));
});

test('byContent: the first value with the same JSON text is handed out; past the limit values stay unshared', () => {
  const i = new Interner(2);
  const a = { name: 'x', mounts: ['t'] };
  assert.equal(i.byContent({ name: 'x', mounts: ['t'] }), i.byContent({ name: 'x', mounts: ['t'] }));
  assert.equal(i.byContent(a), i.byContent({ name: 'x', mounts: ['t'] }), 'equal content: the first one kept');
  const b = [{ kind: 'ReplicaSet' }];
  assert.equal(i.byContent(b), b, 'second distinct value: kept');
  const c = { other: true };
  assert.equal(i.byContent(c), c);
  assert.notEqual(i.byContent({ other: true }), c, 'the limit of 2 was reached: the third distinct value is not kept');
  i.clear();
  assert.equal(i.byContent(c), c, 'cleared: kept again from scratch');
});
