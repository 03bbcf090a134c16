import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSshConfig } from '../../../src/training/sshConfig';
import { HOST_PROFILES_FILE_VERSION, hostProfileSchema, parseHostProfiles, readHostProfilesFile, resolveHostProfile } from '../../../src/training/hostProfile';

async function withHome(files: Record<string, string>, body: (home: string) => Promise<void>) {
  const home = await mkdtemp(join(tmpdir(), 'ts-sshcfg-'));
  try {
    await mkdir(join(home, '.ssh', 'conf.d'), { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(join(home, '.ssh', name), text);
    await body(home);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

const config = `
# cluster login
Host a100
  HostName gpu-a100.lab.example.org
  Port 2222
  User alice
  IdentityFile ~/.ssh/id_lab

Host *.lab.example.org !bastion.lab.example.org
  User labuser

Host a100 other
  Port 9999
  IdentityFile %d/.ssh/id_second

Include conf.d/*.conf

Host *
  User fallback
  IdentityAgent none
`;

void test('a Host alias resolves like ssh: first value wins, IdentityFile accumulates, ~ and %d expand', async () => {
  await withHome({ config }, async (home) => {
    const r = await resolveSshConfig('a100', { home, localUser: 'me' });
    assert.equal(r.hostName, 'gpu-a100.lab.example.org');
    assert.equal(r.port, 2222, 'the first Port seen wins');
    assert.equal(r.user, 'alice');
    assert.deepEqual(r.identityFiles, [join(home, '.ssh/id_lab'), join(home, '.ssh/id_second')]);
  });
});

void test('patterns, negation and Include apply; Match blocks are reported and not applied', async () => {
  const extra = 'Host other\n  HostName other.example.org\nMatch user root\n  Port 1\n';
  await withHome({ config, 'conf.d/10-extra.conf': extra }, async (home) => {
    const other = await resolveSshConfig('other', { home });
    assert.equal(other.hostName, 'other.example.org');
    assert.equal(other.port, 9999);
    assert.equal(other.user, 'fallback');
    assert.ok(other.notes.some((n) => n.includes('Match')));
    const bastion = await resolveSshConfig('bastion.lab.example.org', { home });
    assert.equal(bastion.user, 'fallback', 'the negated pattern excludes the bastion');
    const node = await resolveSshConfig('n1.lab.example.org', { home });
    assert.equal(node.user, 'labuser');
  });
});

void test('a bad Port names the file and line', async () => {
  await withHome({ config: 'Host x\n  Port lots\n' }, async (home) => {
    await assert.rejects(resolveSshConfig('x', { home }), /config:2: Port "lots"/);
  });
});

void test('a host profile overrides the config; the agent comes from SSH_AUTH_SOCK unless IdentityAgent none', async () => {
  await withHome({ config }, async (home) => {
    const profile = hostProfileSchema.parse({ name: 'lab', host: 'a100', user: 'bob' });
    const { target } = await resolveHostProfile(profile, { SSH_AUTH_SOCK: '/tmp/agent.sock' }, { home });
    assert.equal(target.host, 'gpu-a100.lab.example.org');
    assert.equal(target.user, 'bob');
    assert.equal(target.port, 2222);
    assert.equal(target.agentSocket, undefined, 'IdentityAgent none from Host * wins over the env');
  });
  await withHome({ config: '' }, async (home) => {
    await writeFile(join(home, '.ssh', 'id_ed25519'), 'x');
    const profile = hostProfileSchema.parse({ name: 'plain', host: '10.0.0.9' });
    const { target } = await resolveHostProfile(profile, { SSH_AUTH_SOCK: '/tmp/agent.sock' }, { home });
    assert.equal(target.port, 22);
    assert.equal(target.agentSocket, '/tmp/agent.sock');
    assert.deepEqual(target.identityFiles, [join(home, '.ssh', 'id_ed25519')], 'only default keys that exist are offered');
  });
});

void test('host profile settings are validated with the entry and field named', () => {
  assert.throws(() => parseHostProfiles([{ name: 'a', host: 'h', port: 70000 }]), /trajectoryStudio\.training\.hosts\[0\]\.port: /);
  assert.throws(() => parseHostProfiles([{ name: 'a', host: 'h' }, { name: 'a', host: 'g' }]), /two host profiles are named "a"/);
  const [p] = parseHostProfiles([{ name: 'a', host: 'h' }]);
  assert.equal(p?.workFolder, '~/trajectory-studio-runs');
  assert.equal(p?.scheduler, 'direct');
});

void test('the CLI host profiles file: versioned or a bare array, checked by field, a newer version refused', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'ts-hosts-file-'));
  try {
    const file = join(folder, 'training-hosts.json');
    assert.equal(await readHostProfilesFile(file), undefined, 'a missing file reads as none');
    const hosts = [{ name: 'a100', host: 'gpu-box', workFolder: '~/runs' }];
    const expected = hosts.map((h) => hostProfileSchema.parse(h));

    await writeFile(file, JSON.stringify({ version: HOST_PROFILES_FILE_VERSION, hosts }));
    assert.deepEqual(await readHostProfilesFile(file), expected);
    await writeFile(file, JSON.stringify(hosts));
    assert.deepEqual(await readHostProfilesFile(file), expected, 'the bare array of the first version still reads');

    await writeFile(file, JSON.stringify({ version: HOST_PROFILES_FILE_VERSION, hosts: [{ ...hosts[0], port: 'ssh' }] }));
    await assert.rejects(readHostProfilesFile(file), (err: Error) => err.message.includes(file) && err.message.includes('$.hosts[0].port: '));
    await writeFile(file, JSON.stringify([...hosts, ...hosts]));
    await assert.rejects(readHostProfilesFile(file), /two host profiles are named "a100"/);
    await writeFile(file, JSON.stringify({ version: HOST_PROFILES_FILE_VERSION + 1, hosts }));
    await assert.rejects(readHostProfilesFile(file), /newer Trajectory Studio/);
    await writeFile(file, '[{"name": "a100",');
    await assert.rejects(readHostProfilesFile(file), (err: Error) => err.message.includes(file) && /not valid JSON/.test(err.message));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
});
