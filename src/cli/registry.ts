import { type CliCommand } from './command';
import { versionCommand } from './commands/version';
import { trajectoryCommands } from './commands/trajectory';
import { agentCommands } from './commands/agent';
import { retrievalCommands } from './commands/retrieval';
import { scoreCommand } from './commands/scoring';
import { generateCommand, generationSummaryCommand } from './commands/teacher';
import { sandboxCommands } from './commands/sandbox';
import { evalCommands } from './commands/eval';
import { trainingCommands } from './commands/training';
import { triageCommand } from './commands/triage';

/**
 * Every `trajectory-studio` command, in the order `--help` lists them. Each feature contributes its
 * commands from `src/cli/commands/<feature>.ts`, built on that feature's core module.
 */
export const cliCommands: readonly CliCommand[] = [
  versionCommand,
  ...trajectoryCommands,
  triageCommand,
  ...agentCommands,
  ...retrievalCommands,
  scoreCommand,
  generateCommand,
  generationSummaryCommand,
  ...sandboxCommands,
  ...evalCommands,
  ...trainingCommands,
];
