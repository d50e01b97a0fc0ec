import { afterAll, describe, expect, it } from 'vitest';
import { checkStore, Ledger, writeLoad, type WritePlan } from '../helpers/crash-writer.js';
import { startService, tempDir, type RunningService } from '../helpers/service.js';

// Crash durability: write concurrently, SIGKILL the process that owns the data at different points,
// restart on the same data dir, and check through the query API that every sample acknowledged with
// a 2xx is there with its exact value and that each series holds a gapless prefix of what was sent
// (nothing torn or reordered from the requests in flight at the kill). Kill points differ in timing
// and volume; the backend's own checkpoint timer (60 s) is out of reach of a short test, but every
// restart after a crash replays and then checkpoints, so a kill soon after a restart lands right
// after a checkpoint, and one kill follows a graceful stop (which checkpoints on close).

/** When to SIGKILL during a write phase. */
interface KillPoint {
  readonly name: string;
  /** Kill once this many requests of the phase were acknowledged… */
  readonly afterAcks?: number;
  /** …or this long after the phase started (at the first acknowledgement after it, if none yet)… */
  readonly afterMs?: number;
  /** …or once every series has this many acknowledged samples (chunks are cut every 120). */
  readonly minSamplesPerSeries?: number;
  /** Stop gracefully and restart before the phase (its checkpoint on close precedes the writes). */
  readonly gracefulRestartFirst?: boolean;
}

const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;

function plan(metric: string, tenant: string): WritePlan {
  return { metric, series: 24, writers: 4, samplesPerSeries: 10, t0Ms: T0, stepMs: 1000, tenant };
}

/**
 * Writes until the kill point, kills with `kill` (once), waits for the writers to stop. Returns how
 * many requests were acknowledged in the phase.
 */
async function writeUntilKilled(ledger: Ledger, writeUrl: string, kp: KillPoint, kill: () => Promise<void>): Promise<number> {
  const start = Date.now();
  const acksBefore = ledger.ackedRequests;
  let killing: Promise<void> | undefined;
  const trigger = (): void => {
    killing ??= kill();
  };
  let timeUp = false;
  const timer =
    kp.afterMs !== undefined
      ? setTimeout(() => {
          timeUp = true;
          if (ledger.ackedRequests > acksBefore) trigger();
        }, kp.afterMs)
      : undefined;
  await writeLoad(ledger, {
    url: writeUrl,
    maxRequestsPerWriter: 2000,
    done: () => killing !== undefined,
    onAck: (l) => {
      if (timeUp) trigger();
      if (kp.afterAcks !== undefined && l.ackedRequests - acksBefore >= kp.afterAcks) trigger();
      if (kp.minSamplesPerSeries !== undefined && l.minAcked() + 1 >= kp.minSamplesPerSeries) trigger();
    },
  });
  clearTimeout(timer);
  // Writers can only stop early by failing, which means the process already died: a bug.
  expect(killing, `writers stopped before the kill point (${JSON.stringify([...ledger.outcomes])}) after ${Date.now() - start} ms`).toBeDefined();
  await killing;
  return ledger.ackedRequests - acksBefore;
}

const KILL_POINTS: KillPoint[] = [
  { name: 'after the first acknowledged requests', afterAcks: 3 },
  { name: 'right after the checkpoint that follows crash recovery', afterAcks: 1 },
  { name: 'mid-stream, at a fixed time', afterMs: 400 },
  { name: 'after head chunks were cut (>120 samples per series)', minSamplesPerSeries: 300 },
  { name: 'soon after a graceful restart (checkpoint on close)', afterAcks: 2, gracefulRestartFirst: true },
];

describe('crash: SIGKILL of all mode under write load', () => {
  const data = tempDir('crash-all');
  const ledger = new Ledger(plan('crash_all', 'crash'));
  let svc: RunningService | undefined;
  const args = [`--data-dir=${data.dir}`];

  afterAll(async () => {
    await svc?.stop();
    data.remove();
  });

  it.each(KILL_POINTS)('keeps every acknowledged sample: kill $name', async (kp) => {
    svc ??= await startService('all', args);
    if (kp.gracefulRestartFirst === true) {
      expect(await svc.stop()).toBe(0);
      svc = await startService('all', args);
    }
    const running = svc;
    const acks = await writeUntilKilled(ledger, running.url, kp, () => running.kill());
    expect(acks).toBeGreaterThan(0);
    svc = await startService('all', args);
    const check = await checkStore(svc.url, ledger);
    console.log(`crash all/${kp.name}: ${acks} acks, outcomes so far ${JSON.stringify([...ledger.outcomes])}, ${check.stored} stored, ${check.unackedStored} stored beyond the acks`);
    expect(check.problems).toEqual([]);
    expect(check.stored).toBeGreaterThan(0);
    if (kp.minSamplesPerSeries !== undefined) expect(ledger.minAcked() + 1).toBeGreaterThanOrEqual(kp.minSamplesPerSeries);
  });

  it('killed with requests in flight (they failed without an acknowledgement)', () => {
    const failed = [...ledger.outcomes].filter(([o]) => o !== 'ok').reduce((n, [, c]) => n + c, 0);
    expect(failed).toBeGreaterThan(0);
  });
});

describe('crash: SIGKILL of the storage process behind ingest (gRPC)', () => {
  const data = tempDir('crash-split');
  const ledger = new Ledger(plan('crash_split', 'crash'));
  const procs: RunningService[] = [];
  const args = [`--data-dir=${data.dir}`];

  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop();
    data.remove();
  });

  it.each<KillPoint>([
    { name: 'after the first acknowledged requests', afterAcks: 3 },
    { name: 'after head chunks were cut (>120 samples per series)', minSamplesPerSeries: 200 },
  ])('keeps every acknowledged sample: kill storage $name', async (kp) => {
    const storage = await startService('storage', args);
    procs.push(storage);
    const address = `--storage.address=127.0.0.1:${storage.grpcPort}`;
    const ingest = await startService('ingest', [address]);
    procs.push(ingest);
    await writeUntilKilled(ledger, ingest.url, kp, () => storage.kill());
    await ingest.stop();
    // Requests in flight at the kill fail with a retryable status (ingest is still up), never 2xx.
    const nonRetryable = [...ledger.outcomes.keys()].filter((o) => o !== 'ok' && o !== 'status-503' && o !== 'reset' && o !== 'refused');
    expect(nonRetryable).toEqual([]);
    const restarted = await startService('storage', args);
    procs.push(restarted);
    const query = await startService('query', [`--storage.address=127.0.0.1:${restarted.grpcPort}`]);
    procs.push(query);
    const check = await checkStore(query.url, ledger);
    console.log(`crash storage/${kp.name}: outcomes so far ${JSON.stringify([...ledger.outcomes])}, ${check.stored} stored, ${check.unackedStored} stored beyond the acks`);
    expect(check.problems).toEqual([]);
    expect(check.stored).toBeGreaterThan(0);
    await query.stop();
    expect(await restarted.stop()).toBe(0);
  });
});
