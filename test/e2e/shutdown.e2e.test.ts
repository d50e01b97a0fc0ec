import { afterAll, describe, expect, it } from 'vitest';
import { checkStore, Ledger, writeLoad, type Outcome } from '../helpers/crash-writer.js';
import { startService, tempDir, type RunningService } from '../helpers/service.js';

// Graceful shutdown: SIGTERM during write load. The process stops accepting, lets the requests in
// flight finish, flushes, and exits 0; everything acknowledged is there after a restart.
describe('graceful shutdown of all mode under write load', () => {
  const data = tempDir('shutdown');
  const args = [`--data-dir=${data.dir}`];
  let svc: RunningService | undefined;

  afterAll(async () => {
    await svc?.stop();
    data.remove();
  });

  it('finishes in-flight writes, exits 0 and keeps every acknowledged sample', async () => {
    svc = await startService('all', args);
    const running = svc;
    const ledger = new Ledger({ metric: 'shutdown_test', series: 24, writers: 4, samplesPerSeries: 10, t0Ms: Math.floor(Date.now() / 1000) * 1000 - 3_600_000, stepMs: 1000, tenant: 'shutdown' });
    let sigtermAt = Infinity;
    let exited = false;
    let exitCode: Promise<number | null> | undefined;
    const inFlightAtSigterm: Outcome[] = [];
    const afterSigterm = new Map<Outcome, number>();
    await writeLoad(ledger, {
      url: running.url,
      maxRequestsPerWriter: 5000,
      continueOnError: true,
      done: () => exited,
      onAck: (l) => {
        if (exitCode === undefined && l.ackedRequests >= 20) {
          sigtermAt = Date.now();
          exitCode = running.stop().then((c) => {
            exited = true;
            return c;
          });
        }
      },
      onOutcome: (o, sentAt, doneAt) => {
        if (sentAt < sigtermAt && doneAt >= sigtermAt) inFlightAtSigterm.push(o);
        else if (sentAt >= sigtermAt) afterSigterm.set(o, (afterSigterm.get(o) ?? 0) + 1);
      },
    });
    expect(await exitCode).toBe(0);
    // What clients saw (printed for the record): requests in flight at SIGTERM, then later ones.
    console.log(`shutdown: in flight at SIGTERM ${JSON.stringify(inFlightAtSigterm)}; sent after ${JSON.stringify([...afterSigterm])}`);
    // Requests being handled when SIGTERM arrived complete with 2xx. A request written to a
    // keep-alive socket in the instant the server closes it as idle can see a reset (Node's
    // closeIdleConnections race): the sender retries it and nothing acknowledged is lost, so that
    // is tolerated here, but only as long as most in-flight requests finish normally.
    const inFlightOk = inFlightAtSigterm.filter((o) => o === 'ok').length;
    expect(inFlightAtSigterm.filter((o) => o !== 'ok' && o !== 'reset')).toEqual([]);
    if (inFlightAtSigterm.length > 0) expect(inFlightOk).toBeGreaterThan(0);
    // Later requests are either served, refused (port closed) or answered 503; never another status.
    const bad = [...afterSigterm.keys()].filter((o) => o !== 'ok' && o !== 'refused' && o !== 'status-503' && o !== 'reset');
    expect(bad).toEqual([]);

    svc = await startService('all', args);
    const check = await checkStore(svc.url, ledger);
    expect(check.problems).toEqual([]);
    expect(check.stored).toBeGreaterThanOrEqual(20 * 10 * 6);
  });
});
