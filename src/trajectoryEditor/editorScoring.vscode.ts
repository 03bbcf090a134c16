import type * as vscode from 'vscode';
import { readEndpointProfile, secretApiKeys } from '../llm/endpoints.vscode';
import { ModelEndpoint } from '../llm/modelEndpoint';
import { type StudioServices } from '../platform/services';
import { readSetting } from '../platform/settings';
import { scoreAnswerByProfile } from '../scoring/answerScorer';
import { type SympyChecker } from '../scoring/sympyChecker';
import { type Trajectory } from '../trajectory/schema';
import { rejudgeTrajectory, type TrajectoryScorer } from './verdicts';

/**
 * The editor's scorer: the one generation and evaluation use (`scoreAnswerByProfile`, both profiles' verdicts), with the symbolic checker on
 * the configured Python and the judge model from the judge endpoint settings, read at the moment of
 * judging so a judge configured later is used. The sympy helper starts on the first math answer.
 */
export class EditorScoring implements vscode.Disposable {
  private symbolic: Promise<SympyChecker> | undefined;

  constructor(private readonly services: StudioServices) {}

  private judgeConfigured(): boolean {
    return readSetting('endpoints.judge.baseUrls').length > 0;
  }

  private readonly scorer: TrajectoryScorer = async (input, method, signal) => {
    if (method === 'math-equivalence') {
      this.symbolic ??= import('../scoring/sympyChecker').then(({ SympyChecker }) => {
        const python = readSetting('python.interpreter');
        return new SympyChecker(python ? { python } : {});
      });
      return scoreAnswerByProfile(input, { symbolic: await this.symbolic }, signal);
    }
    if (method === 'exact-match') return scoreAnswerByProfile(input, {}, signal);
    if (!this.judgeConfigured()) return undefined;
    const judge = new ModelEndpoint(readEndpointProfile('judge'), { apiKeys: secretApiKeys(this.services.secrets) });
    return scoreAnswerByProfile(input, { judge }, signal);
  };

  /** `after` with its verdict made again from its answer when that changed (see {@link rejudgeTrajectory}). */
  rejudge(before: Trajectory, after: Trajectory): Promise<Trajectory> {
    return rejudgeTrajectory(before, after, { scorer: this.scorer, judgeAvailable: this.judgeConfigured() });
  }

  dispose(): void {
    void this.symbolic?.then((s) => s.close()).catch(() => undefined);
  }
}
