import { type CliCommand } from '../command';
import { describeRuntime } from '../../environment/runtime';

export const versionCommand: CliCommand = {
  name: 'version',
  summary: 'Print the version of Trajectory Studio and of the runtime it uses',
  synopsis: 'trajectory-studio version',
  options: {},
  run(_args, io) {
    io.stdout(`${describeRuntime()}\n`);
    return Promise.resolve(0);
  },
};
