import { type SessionEvents } from '../../../src/trajectoryEditor/trajectoryEditorSession';

/**
 * Session events for tests that edit records and then read the list: after each change of records the session
 * summarises them again (reading them is asynchronous) and then reports index progress. `summarised()`
 * resolves once every change so far has been followed by that report. Create the session with `events` and
 * call `indexed()` once its scan has finished, so scan progress is not mistaken for a re-summary.
 */
export function summaryTracker(): { events: SessionEvents; indexed(): void; summarised(timeoutMs?: number): Promise<void> } {
  let scanning = true;
  let changes = 0;
  let refreshed = 0;
  let waiters: (() => void)[] = [];
  const wake = () => {
    if (refreshed < changes) return;
    const ready = waiters;
    waiters = [];
    for (const w of ready) w();
  };
  return {
    events: {
      onRecordsChanged: (slots) => {
        if (slots !== 'all') changes++;
      },
      onIndexProgress: () => {
        if (scanning) return;
        refreshed++;
        wake();
      },
    },
    indexed: () => {
      scanning = false;
    },
    summarised(timeoutMs = 5000) {
      if (refreshed >= changes) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${changes - refreshed} of ${changes} record changes not summarised again within ${timeoutMs} ms`)), timeoutMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
