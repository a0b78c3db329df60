import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { brotliCompressSync } from 'node:zlib';
import {
  EmbeddedFilesError,
  cacheRoot,
  manifestId,
  unpackEmbeddedFiles,
  unpackedDirName,
  type EmbeddedFile,
  type EmbeddedManifest,
} from '../../deploy/sea/embedded-files.js';

const work = mkdtempSync(join(tmpdir(), 'cloudsense-embedded-files-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A manifest and its assets, as deploy/sea/build-agent.ts makes them. */
function embedded(contents: Record<string, string>): {
  manifest: EmbeddedManifest;
  assets: Map<string, Uint8Array>;
} {
  const assets = new Map<string, Uint8Array>();
  const files: EmbeddedFile[] = Object.entries(contents).map(([path, text]) => {
    const bytes = Buffer.from(text);
    assets.set(`${path}.br`, brotliCompressSync(bytes));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return { path, asset: `${path}.br`, size: bytes.length, sha256 };
  });
  return { manifest: { version: '1.2.3', id: manifestId(files), files }, assets };
}

const FILES = { 'libnative.so.1': 'native code', 'models/cpu.onnx': 'a cpu model' };

describe('embedded files', () => {
  it('unpacks into a directory named by version and content, and reuses it on the next start', () => {
    const root = join(work, 'reuse');
    const { manifest, assets } = embedded(FILES);
    let reads = 0;
    const read = (key: string) => {
      reads++;
      return assets.get(key)!;
    };
    const dir = unpackEmbeddedFiles(manifest, read, root);
    assert.equal(dir, join(root, unpackedDirName(manifest)));
    assert.match(unpackedDirName(manifest), /^agent-1\.2\.3-[0-9a-f]{16}$/);
    assert.equal(readFileSync(join(dir, 'models/cpu.onnx'), 'utf8'), 'a cpu model');
    assert.equal(statSync(join(dir, 'libnative.so.1')).mode & 0o777, 0o444);
    assert.equal(reads, 2);

    const inode = statSync(join(dir, 'libnative.so.1')).ino;
    assert.equal(unpackEmbeddedFiles(manifest, read, root), dir);
    assert.equal(reads, 2, 'nothing unpacked the second time');
    assert.equal(statSync(join(dir, 'libnative.so.1')).ino, inode);
    assert.deepEqual(readdirSync(root), [unpackedDirName(manifest)], 'no staging directory left');
  });

  it('replaces a copy whose file no longer matches its hash', () => {
    const root = join(work, 'damaged');
    const { manifest, assets } = embedded(FILES);
    const dir = unpackEmbeddedFiles(manifest, (key) => assets.get(key)!, root);
    const lib = join(dir, 'libnative.so.1');
    chmodSync(lib, 0o644);
    writeFileSync(lib, 'native cod3');
    assert.equal(
      unpackEmbeddedFiles(manifest, (key) => assets.get(key)!, root),
      dir,
    );
    assert.equal(readFileSync(lib, 'utf8'), 'native code');
    assert.deepEqual(readdirSync(root), [unpackedDirName(manifest)]);

    // A copy others could write to is not trusted either.
    chmodSync(dir, 0o777);
    assert.equal(
      unpackEmbeddedFiles(manifest, (key) => assets.get(key)!, root),
      dir,
    );
    assert.equal(statSync(dir).mode & 0o777, 0o700);
  });

  it('uses the copy of a start that finished first', () => {
    const root = join(work, 'race');
    const { manifest, assets } = embedded(FILES);
    let raced = false;
    // While this start unpacks, another one unpacks and renames its copy into place first.
    const dir = unpackEmbeddedFiles(
      manifest,
      (key) => {
        if (!raced) {
          raced = true;
          unpackEmbeddedFiles(manifest, (k) => assets.get(k)!, root);
        }
        return assets.get(key)!;
      },
      root,
    );
    assert.equal(readFileSync(join(dir, 'models/cpu.onnx'), 'utf8'), 'a cpu model');
    assert.deepEqual(readdirSync(root), [unpackedDirName(manifest)]);
  });

  it('refuses an asset that does not match the hash it was built with', () => {
    const root = join(work, 'bad-asset');
    const { manifest } = embedded(FILES);
    assert.throws(
      () => unpackEmbeddedFiles(manifest, () => brotliCompressSync(Buffer.from('something else')), root),
      (err: unknown) => err instanceof EmbeddedFilesError && /executable is damaged/.test(err.message),
    );
    assert.deepEqual(readdirSync(root), [], 'no partial copy left');
  });

  it('says which variable to set when the cache directory cannot be created', () => {
    const { manifest, assets } = embedded(FILES);
    const file = join(work, 'a-file');
    writeFileSync(file, '');
    assert.throws(
      () => unpackEmbeddedFiles(manifest, (key) => assets.get(key)!, join(file, 'cache')),
      /set XDG_CACHE_HOME/,
    );
  });

  it('finds the cache directory: systemd, XDG, then ~/.cache', () => {
    const home = () => '/home/agent';
    assert.equal(
      cacheRoot({ CACHE_DIRECTORY: '/var/cache/cloudsense:/var/cache/other', XDG_CACHE_HOME: '/x' }, home),
      '/var/cache/cloudsense',
    );
    assert.equal(cacheRoot({ XDG_CACHE_HOME: '/tmp/xdg' }, home), '/tmp/xdg/cloudsense');
    assert.equal(cacheRoot({ XDG_CACHE_HOME: 'relative' }, home), '/home/agent/.cache/cloudsense');
    assert.equal(cacheRoot({}, home), '/home/agent/.cache/cloudsense');
  });
});
