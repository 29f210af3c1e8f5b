import { describe, expect, it } from 'vitest';
import { Semaphore } from './exec.js';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('Semaphore', () => {
  it('admits up to its size, then queues FIFO', async () => {
    const s = new Semaphore(2);
    const order: number[] = [];
    const r1 = await s.acquire();
    const r2 = await s.acquire();
    const waiting = [3, 4].map((n) => s.acquire().then((release) => (order.push(n), release)));
    await tick();
    expect(order).toEqual([]);
    r1();
    r1(); // a second release of the same slot is a no-op
    await tick();
    expect(order).toEqual([3]);
    r2();
    await tick();
    expect(order).toEqual([3, 4]);
    for (const w of waiting) (await w)();
    // All free again: two immediate acquisitions.
    await Promise.all([s.acquire(), s.acquire()]);
  });

  it('a queued waiter whose signal aborts leaves the queue with the reason', async () => {
    const s = new Semaphore(1);
    const release = await s.acquire();
    const ac = new AbortController();
    const aborted = s.acquire(ac.signal);
    const next = s.acquire();
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    release();
    await expect(next).resolves.toBeTypeOf('function');
  });
});
