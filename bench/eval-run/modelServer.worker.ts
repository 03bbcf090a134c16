/**
 * The eval-run benchmark's model server, in its own thread: a real model server is another process, so its
 * work (parsing requests, rendering replies) must not share the event loop of the run it serves.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startFakeModelServer } from '../../test/support/fakeModelServer';
import { agreementProfiles, type AgreementProfileName, samplingStudent } from '../../test/support/samplingStudent';

const { latencyMs, agreement } = workerData as { latencyMs: number; agreement: AgreementProfileName };

void (async () => {
  const server = await startFakeModelServer({ script: samplingStudent(agreementProfiles[agreement]), models: ['student'], latencyMs });
  parentPort!.on('message', (message: string) => {
    if (message !== 'close') return;
    const maxInFlight = server.maxInFlight;
    void server.close().then(() => parentPort!.postMessage({ type: 'closed', maxInFlight }));
  });
  parentPort!.postMessage({ type: 'ready', baseUrl: server.baseUrl });
})();
