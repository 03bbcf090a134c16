import * as path from 'node:path';
import { type SettingKey, type SettingTypes } from '../platform/ids';
import { type ApiKeyProvider, defaultProfile, type EndpointProfile, type EndpointRole, endpointRoles, environmentApiKeys, profileFromEnvironment } from '../llm/profiles';
import { type EpisodeOptions } from '../sandbox/prepare';
import { type IsolationSetting } from '../sandbox/isolation';
import { embeddingsApiKeyVariable } from '../retrieval/indexBuildProcess';

/**
 * Everything a run takes from where it was started, gathered in one place: endpoint profiles (flavor,
 * concurrency, timeout), API keys (the embeddings key included), the user's prompt folders, the folder
 * holding the retrieval indexes and the sandbox options. VS Code builds it from its settings and
 * SecretStorage, the CLI from its environment and flags; teacher generation, evaluation and quick eval all
 * read it from here, so a setting cannot reach one feature and miss another.
 */
export interface RunEnvironment {
  endpoint: (role: EndpointRole) => EndpointProfile;
  apiKeys: ApiKeyProvider;
  /** The key of the embeddings server an index's vectors came from (vector and hybrid search embed the query). */
  embeddingsApiKey: () => Promise<string | undefined>;
  /** Folders with the user's own prompt profiles, searched before the built-in ones. */
  promptFolders: string[];
  /** Where the retrieval indexes live. */
  indexRoot: string;
  /** Interpreter and limits of the Python sandbox. */
  sandbox: EpisodeOptions;
}

/**
 * What a teacher or evaluation run takes from its environment besides its own endpoint: the judge, the keys,
 * the prompt folders and the sandbox (whose warnings go to `onWarning`).
 */
export function sharedRunServices(environment: RunEnvironment, onWarning: (message: string) => void): {
  judgeProfile: EndpointProfile;
  apiKeys: ApiKeyProvider;
  embeddingsApiKey: () => Promise<string | undefined>;
  promptFolders: string[];
  sandbox: EpisodeOptions;
} {
  return {
    judgeProfile: environment.endpoint('judge'),
    apiKeys: environment.apiKeys,
    embeddingsApiKey: environment.embeddingsApiKey,
    promptFolders: environment.promptFolders,
    sandbox: { ...environment.sandbox, onWarning },
  };
}

/** Reads one `trajectoryStudio.*` setting with its package.json default (VS Code's `readSetting`, or a test's map). */
export type SettingReader = <K extends SettingKey>(key: K) => SettingTypes[K];

/** Where relative settings resolve and where the extension keeps its own files. */
export interface SettingsPlaces {
  /** The first workspace folder on disk, if a folder is open. */
  workspaceFolder?: string;
  /** The extension's global storage folder on disk. */
  globalStorageFolder: string;
}

/** The secret names the studio keeps in SecretStorage: `apiKey.<role>` and `apiKey.embeddings`. */
export type SecretReader = (name: `apiKey.${EndpointRole | 'embeddings'}`) => Promise<string | undefined>;

/** A role's endpoint profile from the `endpoints.<role>.*` settings. */
export function endpointProfileFromSettings(read: SettingReader, role: EndpointRole): EndpointProfile {
  return {
    ...defaultProfile(role),
    baseUrls: read(`endpoints.${role}.baseUrls`),
    model: read(`endpoints.${role}.model`),
    flavor: read(`endpoints.${role}.flavor`),
    concurrency: read(`endpoints.${role}.concurrency`),
    timeoutMs: read(`endpoints.${role}.timeoutSeconds`) * 1000,
  };
}

/** A folder setting: absolute as given, else under the workspace folder; undefined when empty or nowhere to resolve. */
function resolvedFolder(value: string, places: Pick<SettingsPlaces, 'workspaceFolder'>): string | undefined {
  const folder = value.trim();
  if (!folder) return undefined;
  if (path.isAbsolute(folder)) return folder;
  return places.workspaceFolder ? path.join(places.workspaceFolder, folder) : undefined;
}

/** The sandbox options the `python.interpreter` and `sandbox.*` settings describe. */
export function sandboxOptionsFromSettings(read: SettingReader): EpisodeOptions {
  const interpreter = read('python.interpreter').trim();
  return {
    ...(interpreter ? { interpreter } : {}),
    isolation: read('sandbox.isolation'),
    stepCpuSeconds: read('sandbox.stepTimeoutSeconds'),
    memoryLimitMb: read('sandbox.memoryLimitMb'),
  };
}

/** The user's prompt folders (`agent.promptsFolder`); empty when the setting is. */
export function promptFoldersFromSettings(read: SettingReader, places: Pick<SettingsPlaces, 'workspaceFolder'>): string[] {
  const folder = resolvedFolder(read('agent.promptsFolder'), places);
  return folder ? [folder] : [];
}

/** The folder of the retrieval indexes (`retrieval.indexFolder`). */
export function indexRootFromSettings(read: SettingReader, places: SettingsPlaces): string {
  // Without a workspace folder a relative index folder has nowhere to be: the extension's own storage holds them.
  return resolvedFolder(read('retrieval.indexFolder'), places) ?? path.join(places.globalStorageFolder, 'indexes');
}

/** The run environment in VS Code: settings, resolved against the workspace, and keys from SecretStorage. */
export function runEnvironmentFromSettings(read: SettingReader, places: SettingsPlaces, secret: SecretReader): RunEnvironment {
  const profiles = new Map(endpointRoles.map((role) => [role, endpointProfileFromSettings(read, role)]));
  return {
    endpoint: (role) => ({ ...profiles.get(role)! }),
    // Keys belong to the three roles; a profile under another name has none.
    apiKeys: (name) => ((endpointRoles as readonly string[]).includes(name) ? secret(`apiKey.${name as EndpointRole}`) : Promise.resolve(undefined)),
    embeddingsApiKey: () => secret('apiKey.embeddings'),
    promptFolders: promptFoldersFromSettings(read, places),
    indexRoot: indexRootFromSettings(read, places),
    sandbox: sandboxOptionsFromSettings(read),
  };
}

/** The embeddings server's key for the CLI: `TRAJECTORY_STUDIO_EMBEDDINGS_API_KEY`, else `OPENAI_API_KEY`. */
export function embeddingsApiKeyFromEnvironment(env: Readonly<Record<string, string | undefined>>): string | undefined {
  return env[embeddingsApiKeyVariable] || env.OPENAI_API_KEY || undefined;
}

/** What the CLI's flags say about the environment; the rest comes from environment variables. */
export interface CliEnvironmentFlags {
  cwd: string;
  python?: string;
  isolation?: IsolationSetting;
  promptsFolder?: string;
  indexFolder?: string;
}

/**
 * The run environment of the CLI: `TRAJECTORY_STUDIO_<ROLE>_*` variables for the endpoints, their
 * `_API_KEY`s, `TRAJECTORY_STUDIO_EMBEDDINGS_API_KEY`, and the flags for the rest (relative to the working folder).
 */
export function runEnvironmentFromCli(env: Readonly<Record<string, string | undefined>>, flags: CliEnvironmentFlags): RunEnvironment {
  const profiles = new Map(endpointRoles.map((role) => [role, profileFromEnvironment(role, env)]));
  const embeddingsKey = embeddingsApiKeyFromEnvironment(env);
  return {
    endpoint: (role) => ({ ...profiles.get(role)! }),
    apiKeys: environmentApiKeys(env),
    embeddingsApiKey: () => Promise.resolve(embeddingsKey),
    promptFolders: flags.promptsFolder ? [path.resolve(flags.cwd, flags.promptsFolder)] : [],
    indexRoot: path.resolve(flags.cwd, flags.indexFolder ?? '.trajectory-studio/indexes'),
    sandbox: { ...(flags.python ? { interpreter: flags.python } : {}), ...(flags.isolation ? { isolation: flags.isolation } : {}) },
  };
}
