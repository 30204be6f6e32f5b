import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { fromApiError, OperatorError, OperatorErrorCode, POLL_MS } from '../errors.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { Controller, type ControllerObserver, type Reconcile } from './controller.ts';
import { exponentialFailureRateLimiter } from './rate-limiter.ts';
import { WorkQueue } from './work-queue.ts';

const logger = pino({ level: 'silent' });

function setup(reconcile: Reconcile, workers = 2, log = logger) {
  const clock = new FakeClock();
  const queue = new WorkQueue({ clock, rateLimiter: exponentialFailureRateLimiter(5, 1_000_000) });
  const outcomes: string[] = [];
  const failures: boolean[] = [];
  const failing: number[] = [];
  const observer: ControllerObserver = {
    reconciled: (o) => outcomes.push(o),
    failed: (t) => failures.push(t),
    failingKeys: (n) => failing.push(n),
    activeWorkers: () => {},
  };
  const controller = new Controller({ name: 't', queue, reconcile, clock, logger: log, workers, observer });
  void controller.run();
  return { clock, queue, controller, outcomes, failures, failing };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Controller', () => {
  it('never runs two reconciles of one key at once, and runs again when re-added meanwhile', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    const gates: Array<() => void> = [];
    const { queue, controller } = setup(async () => {
      calls++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((r) => gates.push(r));
      inFlight--;
      return undefined;
    }, 4);
    queue.add('ns/a');
    await tick();
    queue.add('ns/a');
    queue.add('ns/a');
    await tick();
    expect(calls).toBe(1);
    gates.shift()!();
    await tick();
    expect(calls).toBe(2);
    gates.shift()!();
    await tick();
    expect(maxInFlight).toBe(1);
    await controller.stop();
  });

  it('counts a key as failing from its failed reconcile until one succeeds, terminal failures included', async () => {
    const broken = new Set(['ns/a', 'ns/b']);
    const { clock, queue, controller, failing } = setup(async (key) => {
      if (key === 'ns/b' && broken.has(key))
        throw new OperatorError(OperatorErrorCode.Rejected, 'spec refused by the apiserver');
      if (broken.has(key)) throw new Error('boom');
      return undefined;
    });
    queue.add('ns/a');
    queue.add('ns/b');
    await tick();
    // Both failed; the terminal one is forgotten by the queue and comes back only on a resync.
    expect(failing).toEqual([1, 2]);
    clock.advance(5);
    await tick();
    // ns/a failed again: still two keys failing, and nothing new reported.
    expect(failing).toEqual([1, 2]);
    broken.delete('ns/a');
    clock.advance(10);
    await tick();
    expect(failing).toEqual([1, 2, 1]);
    // A resync of the terminal key that now succeeds clears it.
    broken.delete('ns/b');
    queue.add('ns/b');
    await tick();
    expect(failing).toEqual([1, 2, 1, 0]);
    await controller.stop();
  });

  it('retries a thrown error with backoff and forgets the key after success', async () => {
    let calls = 0;
    const { clock, queue, controller, outcomes } = setup(async () => {
      calls++;
      if (calls < 3) throw new Error('boom');
      return undefined;
    });
    queue.add('k');
    await tick();
    expect(calls).toBe(1);
    clock.advance(5);
    await tick();
    expect(calls).toBe(2);
    clock.advance(9);
    await tick();
    expect(calls).toBe(2);
    clock.advance(1);
    await tick();
    expect(calls).toBe(3);
    expect(outcomes).toEqual(['error', 'error', 'success']);
    expect(queue.numRequeues('k')).toBe(0);
    await controller.stop();
  });

  it('waits out an apiserver Retry-After longer than the backoff before retrying', async () => {
    let calls = 0;
    const { clock, queue, controller } = setup(async () => {
      calls++;
      if (calls === 1)
        throw fromApiError(
          { code: 429, body: '{"message":"too many requests"}', headers: { 'retry-after': '3' } },
          'apply Deployment',
        );
      return undefined;
    });
    queue.add('ns/a');
    await tick();
    expect(calls).toBe(1);
    // The backoff alone (5 ms) would have retried here.
    clock.advance(2_999);
    await tick();
    expect(calls).toBe(1);
    clock.advance(1);
    await tick();
    expect(calls).toBe(2);
    await controller.stop();
  });

  it('looks again every POLL_MS at a name taken by an object no watch shows, however often it failed', async () => {
    let calls = 0;
    const { clock, queue, controller, failures } = setup(async () => {
      calls++;
      throw new OperatorError(OperatorErrorCode.NameTaken, 'Service ns/a already exists');
    });
    queue.add('ns/a');
    await tick();
    for (let i = 1; i <= 12; i++) {
      // Not sooner (a backoff of 5 ms would be), and not later after many failures (one would double).
      clock.advance(POLL_MS - 1);
      await tick();
      expect(calls).toBe(i);
      clock.advance(1);
      await tick();
      expect(calls).toBe(i + 1);
    }
    expect(failures.every((terminal) => !terminal)).toBe(true);
    expect(queue.numRequeues('ns/a')).toBe(0);
    await controller.stop();
  });

  it('logs a failure that goes on unchanged when it starts, when it changes and hourly, with how long it lasts', async () => {
    let message = 'Service ns/a already exists';
    const lines: { level: number; failures: number; failingForSeconds: number; err: string }[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) });
    const { clock, queue, controller } = setup(
      async () => {
        throw new OperatorError(OperatorErrorCode.NameTaken, message);
      },
      2,
      log,
    );
    queue.add('ns/a');
    await tick();
    const poll = async (n: number) => {
      for (let i = 0; i < n; i++) {
        clock.advance(POLL_MS);
        await tick();
      }
    };
    await poll(11); // 12 failures in 5.5 minutes: one line
    expect(lines.map((l) => [l.failures, l.failingForSeconds])).toEqual([[1, 0]]);
    message = 'Service ns/a is owned by another Neuron';
    await poll(1);
    expect(lines.at(-1)).toMatchObject({
      failures: 13,
      failingForSeconds: 360,
      err: `HAL9_ERR_NAME_TAKEN: ${message}`,
    });
    await poll(120); // an hour on: once more, however many retries
    expect(lines.map((l) => l.failures)).toEqual([1, 13, 133]);
    expect(lines.every((l) => l.level === 40)).toBe(true);
    await controller.stop();
  });

  it('does not retry a terminal error but counts it', async () => {
    let calls = 0;
    const { clock, queue, controller, failures } = setup(async () => {
      calls++;
      throw new OperatorError(OperatorErrorCode.Rejected, 'invalid');
    });
    queue.add('k');
    await tick();
    clock.advance(60_000);
    await tick();
    expect(calls).toBe(1);
    expect(failures).toEqual([true]);
    await controller.stop();
  });

  it('calls a reconcile that failed through its aborted signal a timeout, and retries it', async () => {
    let calls = 0;
    const { clock, queue, controller, failures } = setup(async (_key, signal) => {
      calls++;
      if (calls > 1) return undefined;
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      return undefined;
    });
    queue.add('k');
    await tick();
    clock.advance(60_000);
    await tick();
    expect(failures).toEqual([false]);
    clock.advance(5);
    await tick();
    expect(calls).toBe(2);
    await controller.stop();
  });

  it('keeps the code of an error that came after the timeout for another reason: a late 422 is not retried', async () => {
    let calls = 0;
    let reject: (e: unknown) => void = () => {};
    const { clock, queue, controller, failures } = setup(async () => {
      calls++;
      return new Promise((_, r) => {
        reject = r;
      });
    });
    queue.add('k');
    await tick();
    clock.advance(61_000);
    reject(new OperatorError(OperatorErrorCode.Rejected, 'invalid'));
    await tick();
    clock.advance(60_000);
    await tick();
    expect(failures).toEqual([true]);
    expect(calls).toBe(1);
    await controller.stop();
  });

  it('requeues after the requested delay on success', async () => {
    let calls = 0;
    const { clock, queue, controller, outcomes } = setup(async () => {
      calls++;
      return { requeueAfterMs: 30_000 };
    });
    queue.add('k');
    await tick();
    clock.advance(29_999);
    await tick();
    expect(calls).toBe(1);
    clock.advance(1);
    await tick();
    expect(calls).toBe(2);
    expect(outcomes.slice(0, 2)).toEqual(['requeue_after', 'requeue_after']);
    await controller.stop();
  });
});
