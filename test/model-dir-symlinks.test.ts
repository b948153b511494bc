/**
 * Symbolic links in --model_dir (issue 17 item 7): a link that points outside the model
 * directory is refused, naming the flag that allows it; links inside it are followed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FP32_IDENTITY, type TempRepo, tempRepo } from './helpers/model-dir.js';
import { type TestServer, postJson, repoPath, startTestServer } from './helpers/server.js';

describe('symbolic links in the model directory', () => {
  let repo: TempRepo;
  let elsewhere: string;
  const servers: TestServer[] = [];

  before(async () => {
    repo = await tempRepo();
    elsewhere = await mkdtemp(join(tmpdir(), 'tsserve-outside-'));
    await cp(repoPath(FP32_IDENTITY), join(elsewhere, 'model.onnx'));
    await repo.copy(FP32_IDENTITY, 'plain/1/model.onnx');
    await repo.copy(FP32_IDENTITY, 'store/model.onnx');
    await repo.write('.keep', ''); // hidden entries are not models
    await repo.write('inside/1/.keep', '');
    await symlink(join(repo.dir, 'store/model.onnx'), join(repo.dir, 'inside/1/model.onnx'));
    await repo.write('outside/1/.keep', '');
    await symlink(join(elsewhere, 'model.onnx'), join(repo.dir, 'outside/1/model.onnx'));
    await symlink(elsewhere, join(repo.dir, 'linked_folder'));
  });

  after(async () => {
    for (const s of servers) await s.close();
    await repo?.remove();
    await rm(elsewhere, { recursive: true, force: true });
  });

  const index = async (srv: TestServer) =>
    Object.fromEntries(
      ((await postJson(`${srv.url}/v2/repository/index`, {})).body as { name: string; state: string; reason: string }[]).map((e) => [
        e.name,
        e,
      ]),
    );

  it('refuses links that leave model_dir, naming the flag; follows links inside it', async () => {
    const srv = await startTestServer(repo.dir, { strict_readiness: false });
    servers.push(srv);
    const models = await index(srv);
    assert.equal(models['plain']?.state, 'READY');
    assert.equal(models['inside']?.state, 'READY', 'a link inside model_dir is followed');
    for (const name of ['outside', 'linked_folder']) {
      assert.equal(models[name]?.state, 'UNAVAILABLE', name);
      assert.match(models[name]!.reason, /symbolic link to .*outside --model_dir.*--allow_model_dir_symlinks/, name);
    }
    const refused = await postJson(`${srv.url}/v2/models/outside/infer`, {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1], data: [1] }],
    });
    assert.equal(refused.status, 503);
  });

  it('--allow_model_dir_symlinks true serves them', async () => {
    const srv = await startTestServer(repo.dir, { allow_model_dir_symlinks: true });
    servers.push(srv);
    const models = await index(srv);
    assert.equal(models['outside']?.state, 'READY');
    assert.equal(models['linked_folder']?.state, 'READY');
  });
});
