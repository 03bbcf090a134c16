import { ModelEndpoint } from '../llm/modelEndpoint';
import { environmentApiKeys, profileFromEnvironment } from '../llm/profiles';
import { type CliIo, CliUsageError } from './command';

/** The judge model from the environment, for a command whose `flag` needs it; a clear error when it is not set. */
export function judgeEndpointFromEnvironment(io: CliIo, flag: string): ModelEndpoint {
  const profile = profileFromEnvironment('judge', io.env);
  if (profile.baseUrls.length === 0) {
    throw new CliUsageError(`${flag} needs the judge endpoint: set TRAJECTORY_STUDIO_JUDGE_BASE_URLS (and _MODEL, and the API key variable)`);
  }
  return new ModelEndpoint(profile, { apiKeys: environmentApiKeys(io.env) });
}
