// Types for e2e/setup.mjs, so its unit tests are type-checked.
export function hermeticNpmEnv(env: Readonly<Record<string, string | undefined>>, node24Dir?: string): Record<string, string>;
export function setupTestHost(options?: { log?: (line: string) => void; env?: Readonly<Record<string, string | undefined>> }): Promise<void>;
