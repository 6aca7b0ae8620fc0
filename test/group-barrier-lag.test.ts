// The barrier's lag accounting (docs/threads.md "Where the waits come from"): the replica that arrives last at an
// in-step barrier counts how long after the first one it came; the command barrier, where the replicas wait for
// rank 0 by design, counts nothing. Two ranks over one set of shared buffers, driven from this thread through
// the barrier's two halves (arrive, then await), so the order of arrival is the test's.
import { describe, expect, it } from 'vitest';
import { allocateGroup, GroupMemory, LONG_LAG_MS, threadClock } from '../workers/engine/threads/group-memory.js';

function group(): [GroupMemory, GroupMemory] {
  const buffers = allocateGroup({ size: 2, reduceCap: 4, params: 4, batchRows: 2, inputDim: 1 });
  return [new GroupMemory(buffers, 0), new GroupMemory(buffers, 1)];
}

/** Busy-waits `ms` milliseconds (a late replica's extra work). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/** One barrier: `first` arrives, `late` arrives `ms` later, both pass. */
function meet(first: GroupMemory, late: GroupMemory, ms: number, lagged = true): void {
  const token = first.arrive(lagged);
  busy(ms);
  const open = late.arrive(lagged);
  expect(open).toBe(-1); // the last to arrive opens the barrier
  late.await(open);
  first.await(token);
}

describe('barrier lag accounting', () => {
  it('charges the lag to the replica that arrived last, and separates the long lags', () => {
    const [w0, w1] = group();
    meet(w0, w1, 0); // first calls compile (over a millisecond here): not in the group measured
    const [r0, r1] = group();
    // Short lags are the few µs between the two calls (a > 1 ms stall of this thread inside them is rare even on
    // a busy VM); long ones are busy-waited.
    meet(r0, r1, 0); // rank 1 late by µs
    meet(r0, r1, LONG_LAG_MS + 2); // … and by more than LONG_LAG_MS
    meet(r1, r0, 0); // rank 0 late by µs
    const [p0, p1] = r0.profiles();
    expect(p1.late).toBe(2);
    expect(p1.lagMs).toBeGreaterThanOrEqual(LONG_LAG_MS + 2);
    expect(p1.lagMs).toBeLessThan(LONG_LAG_MS + 2 + 5);
    expect(p1.longLate).toBe(1);
    expect(p1.longLagMs).toBeGreaterThanOrEqual(LONG_LAG_MS + 2);
    expect(p1.longLagMs).toBeLessThanOrEqual(p1.lagMs);
    expect(p0.late).toBe(1);
    expect(p0.lagMs).toBeGreaterThan(0);
    expect(p0.lagMs).toBeLessThan(LONG_LAG_MS);
    expect(p0.longLate).toBe(0);
    expect(p0.longLagMs).toBe(0);
    // both ranks read the same shared slots
    expect(r1.profiles()).toEqual(r0.profiles());
  });

  it('counts nothing at a barrier that is not lagged (the command barrier)', () => {
    const [r0, r1] = group();
    meet(r1, r0, LONG_LAG_MS + 1, false);
    for (const p of r0.profiles()) expect([p.late, p.lagMs, p.longLate, p.longLagMs]).toEqual([0, 0, 0, 0]);
  });

  it("reads the thread's run-queue wait where Linux reports it", () => {
    const q = threadClock().queueMs;
    if (process.platform === 'linux') expect(q).toBeGreaterThanOrEqual(0);
    else expect(q).toBe(-1);
  });
});
