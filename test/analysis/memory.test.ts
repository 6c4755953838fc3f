// Garbage collection between phases: only for large scans, only when the launcher exposed `gc`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectGarbageBetweenPhases, LARGE_SCAN_WORKLOADS } from '../../src/analysis/memory.ts';

test('collects only at LARGE_SCAN_WORKLOADS workloads or more, and only when gc is exposed', () => {
  const g = globalThis as { gc?: () => void };
  const saved = g.gc;
  try {
    let calls = 0;
    g.gc = () => void calls++;
    assert.equal(collectGarbageBetweenPhases(LARGE_SCAN_WORKLOADS - 1), false);
    assert.equal(calls, 0, 'a small scan never pays for a full collection');
    assert.equal(collectGarbageBetweenPhases(LARGE_SCAN_WORKLOADS), true);
    assert.equal(calls, 1);
    delete g.gc;
    assert.equal(collectGarbageBetweenPhases(LARGE_SCAN_WORKLOADS * 10), false, 'no gc exposed (library use, tests): nothing happens');
  } finally {
    if (saved) g.gc = saved;
    else delete g.gc;
  }
});
