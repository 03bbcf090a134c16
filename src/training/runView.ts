import { type MetricPoint, type RunSummary } from './runViewSchema';
import { type MetricsEvent } from './metricsLog';
import { type RunRecord } from './runRecord';

/** The part of a run record the run view shows. */
export function runSummary(run: RunRecord, connectionProblem?: string): RunSummary {
  return {
    id: run.id,
    host: run.host,
    remoteDir: run.remoteDir,
    scheduler: run.scheduler,
    baseModel: run.baseModel,
    dataFile: run.dataFile,
    dataSha256: run.dataSha256,
    ...(run.dataSnapshot ? { dataSnapshot: run.dataSnapshot } : {}),
    ...(run.exportManifest ? { exportManifest: run.exportManifest } : {}),
    ...(run.sourceTrajectories?.length ? { sourceTrajectories: run.sourceTrajectories } : {}),
    createdAt: run.createdAt,
    state: run.state,
    exitCode: run.exitCode ?? null,
    overrides: run.overrides,
    downloadedTo: run.downloadedTo,
    resumes: run.resumes,
    ...(connectionProblem ? { connectionProblem } : {}),
  };
}

export interface RunViewData {
  points: MetricPoint[];
  events: string[];
  totalSteps: number | null;
  worldSize: number | null;
  gpus: { name: string; memoryGb: number }[];
}

function clock(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/**
 * Turns trainer events into chart points and readable event lines. A resumed run writes its steps again
 * from the checkpoint on; a later point for a step replaces the earlier one so the curve has no zigzag.
 */
export function foldMetrics(events: readonly MetricsEvent[], into: RunViewData = { points: [], events: [], totalSteps: null, worldSize: null, gpus: [] }): RunViewData {
  for (const e of events) {
    switch (e.event) {
      case 'start':
        into.totalSteps = e.total_steps;
        into.worldSize = e.world_size ?? null;
        if (e.gpus) into.gpus = e.gpus.map((g) => ({ name: g.name, memoryGb: g.memory_gb }));
        into.events.push(`${clock(e.time)}  started: ${e.total_steps} steps, ${e.examples ?? '?'} examples, ${e.world_size ?? 1} process(es)${e.resumed_from_step ? `, resumed from step ${e.resumed_from_step}` : ''}`);
        if (e.resumed_from_step !== undefined) {
          const from = e.resumed_from_step;
          into.points = into.points.filter((p) => p.step <= from);
        }
        break;
      case 'step': {
        const point: MetricPoint = {
          step: e.step,
          epoch: e.epoch,
          loss: e.loss,
          lr: e.lr,
          gradNorm: e.grad_norm ?? null,
          tokensPerS: e.tokens_per_s ?? null,
          gpuMemGb: e.gpu_mem_gb ?? null,
          etaS: e.eta_s ?? null,
          totalSteps: e.total_steps ?? into.totalSteps,
          time: e.time,
        };
        const last = into.points.at(-1);
        if (last && last.step >= point.step) into.points = into.points.filter((p) => p.step < point.step);
        into.points.push(point);
        break;
      }
      case 'checkpoint':
        into.events.push(`${clock(e.time)}  checkpoint at step ${e.step}: ${e.path}`);
        break;
      case 'done':
        into.events.push(`${clock(e.time)}  finished${e.step !== undefined ? ` at step ${e.step}` : ''}: adapter in ${e.adapter}`);
        break;
      case 'cancelled':
        into.events.push(`${clock(e.time)}  stopped${e.step !== undefined ? ` after step ${e.step}` : ''}${e.checkpoint ? `, checkpoint ${e.checkpoint}` : ''}`);
        break;
      case 'error':
        into.events.push(`${clock(e.time)}  error: ${e.message}`);
        break;
    }
  }
  return into;
}
