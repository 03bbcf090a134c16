// Types for scripts/preflight.mjs, so its unit tests are type-checked.
export type Purpose = 'studio' | 'unit' | 'integration' | 'ui';
export interface Requirement {
  id: string;
  packages: string[];
  purposes: Purpose[];
  platforms?: NodeJS.Platform[];
  why: string;
  probe: { commands?: string[]; files?: (string | (() => string))[]; pythonModules?: string[] };
}
export interface SystemProbe {
  hasCommand(name: string): Promise<boolean>;
  hasFile(file: string): Promise<boolean>;
  hasPythonModule(name: string): Promise<boolean>;
}
export type Decision = { action: 'ok' } | { action: 'install'; command: string } | { action: 'stop'; command: string | undefined };
export const PURPOSES: Purpose[];
export const REQUIREMENTS: Requirement[];
export function requirementsFor(purposes: readonly Purpose[], platform?: NodeJS.Platform): Requirement[];
export function findMissing(requirements: readonly Requirement[], system: SystemProbe): Promise<Requirement[]>;
export function installCommand(missing: readonly Requirement[], options?: { root?: boolean }): string;
export function decide(missing: readonly Requirement[], options: { isRoot: boolean; hasApt: boolean; checkOnly?: boolean }): Decision;
export function describe(missing: readonly Requirement[], decision: Decision): string;
export function realSystem(): SystemProbe;
export function preflight(purposes?: readonly Purpose[], options?: { checkOnly?: boolean; system?: SystemProbe; log?: (line: string) => void }): Promise<number>;
