import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { decide, describe as describeMissing, findMissing, installCommand, preflight, REQUIREMENTS, requirementsFor, type SystemProbe } from '../../../scripts/preflight.mjs';

const root = path.resolve(__dirname, '..', '..', '..');

/** A pretend machine that has everything except what `absent` names (commands, files or Python modules). */
function systemWithout(...absent: string[]): SystemProbe {
  const has = (thing: string) => Promise.resolve(!absent.includes(thing));
  return { hasCommand: has, hasFile: has, hasPythonModule: has };
}

function probeTargets(id: string): string[] {
  const r = REQUIREMENTS.find((x) => x.id === id);
  assert.ok(r, `requirement ${id}`);
  return [...(r.probe.commands ?? []), ...(r.probe.files ?? []).map((f) => (typeof f === 'function' ? f() : f)), ...(r.probe.pythonModules ?? [])];
}

void describe('preflight', () => {
  void it('reports each missing piece with the Debian package that brings it', async () => {
    for (const r of REQUIREMENTS) {
      const missing = await findMissing(requirementsFor(r.purposes, 'linux'), systemWithout(...probeTargets(r.id)));
      assert.deepEqual(missing.map((m) => m.id), [r.id], `only ${r.id} is missing`);
      const text = describeMissing(missing, decide(missing, { isRoot: false, hasApt: true }));
      for (const pkg of r.packages) assert.ok(text.includes(pkg), `the report names ${pkg}`);
      assert.ok(text.includes(r.why));
    }
  });

  void it('asks only for what the command at hand needs', async () => {
    const nothing = systemWithout(...REQUIREMENTS.flatMap((r) => probeTargets(r.id)));
    const studio = (await findMissing(requirementsFor(['studio'], 'linux'), nothing)).flatMap((r) => r.packages);
    assert.ok(studio.includes('libkrb5-dev') && studio.includes('bubblewrap'));
    assert.ok(!studio.includes('chromium') && !studio.includes('python3-torch'), 'the studio needs no browser or torch');
    const unit = (await findMissing(requirementsFor(['unit'], 'linux'), nothing)).flatMap((r) => r.packages);
    assert.ok(unit.includes('python3-torch') && unit.includes('openssh-server'));
    assert.ok(!unit.includes('chromium'), 'the unit tier opens no browser');
    const ui = (await findMissing(requirementsFor(['ui'], 'linux'), nothing)).flatMap((r) => r.packages);
    assert.ok(ui.includes('chromium'));
    assert.ok(!requirementsFor(['studio'], 'darwin').some((r) => r.id === 'bubblewrap'), 'bubblewrap is Linux only');
  });

  void it('gives one install command for everything missing, with sudo unless root', async () => {
    const missing = await findMissing(requirementsFor(['studio', 'unit', 'integration', 'ui'], 'linux'), systemWithout('bwrap', 'torch', 'ssh-keygen'));
    const user = installCommand(missing);
    assert.equal(user, 'sudo apt-get update && sudo apt-get install -y --no-install-recommends bubblewrap python3-torch openssh-server openssh-client');
    assert.ok(!installCommand(missing, { root: true }).includes('sudo'));
  });

  void it('installs only as root with apt-get, and otherwise stops with the command', () => {
    const missing = REQUIREMENTS.slice(0, 1);
    assert.equal(decide([], { isRoot: false, hasApt: false }).action, 'ok');
    assert.equal(decide(missing, { isRoot: true, hasApt: true }).action, 'install');
    const user = decide(missing, { isRoot: false, hasApt: true });
    assert.equal(user.action, 'stop');
    assert.ok(user.action === 'stop' && user.command?.startsWith('sudo apt-get'));
    const noApt = decide(missing, { isRoot: true, hasApt: false });
    assert.ok(noApt.action === 'stop' && noApt.command === undefined);
    assert.match(describeMissing(missing, noApt), /package manager/);
    assert.equal(decide(missing, { isRoot: true, hasApt: true, checkOnly: true }).action, 'stop');
  });

  void it('passes quietly when nothing is missing', async () => {
    const lines: string[] = [];
    assert.equal(await preflight(['studio', 'unit'], { system: systemWithout(), log: (l) => lines.push(l) }), 0);
    assert.match(lines.join('\n'), /everything needed is installed/);
  });

  void it('as a command, exits non-zero before anything slow and prints the install command', async () => {
    // a PATH with nothing on it but apt-get, a Python that does not exist and no Chromium
    const bin = await mkdtemp(path.join(os.tmpdir(), 'ts-preflight-'));
    try {
      await writeFile(path.join(bin, 'apt-get'), '#!/bin/sh\necho "apt-get must not run in --check-only" >&2\nexit 99\n');
      await chmod(path.join(bin, 'apt-get'), 0o755);
      const env = { PATH: bin, TRAJECTORY_STUDIO_TEST_PYTHON: path.join(bin, 'no-python3'), E2E_CHROMIUM: path.join(bin, 'no-chromium') };
      const result = await new Promise<{ code: number; out: string }>((resolve) => {
        execFile(process.execPath, [path.join(root, 'scripts/preflight.mjs'), '--check-only', 'unit', 'ui'], { env, timeout: 60_000 }, (error, stdout, stderr) => {
          resolve({ code: error ? Number(error.code ?? 1) : 0, out: stdout + stderr });
        });
      });
      assert.equal(result.code, 1, result.out);
      assert.doesNotMatch(result.out, /must not run/);
      for (const pkg of ['python3', 'bubblewrap', 'python3-numpy', 'python3-sympy', 'python3-torch', 'chromium']) {
        assert.match(result.out, new RegExp(`install -y --no-install-recommends .*\\b${pkg}\\b`), `the install command names ${pkg}`);
      }
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });
});
