import assert from 'node:assert/strict';
import type { Stats, StatsFs } from 'node:fs';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { CollectionProblems } from '../../agent/collectors/collection-problems.js';
import { CollectSectionSchema, type MountsSection } from '../../agent/collectors/config.js';
import { FilesystemReader, filesystemReading } from '../../agent/collectors/filesystems.js';
import {
  MAX_FILESYSTEMS,
  MountRules,
  admittedMounts,
  chooseFilesystems,
  globToRegExp,
  selectMounts,
} from '../../agent/collectors/mount-rules.js';
import { parseMountinfo, type MountEntry } from '../../agent/collectors/procfs/mountinfo.js';

const fixture = (path: string) =>
  readFileSync(new URL(`../fixtures/procfs/${path}`, import.meta.url), 'utf8');
const HOST = parseMountinfo(fixture('host/self/mountinfo'));
const CONTAINER = parseMountinfo(fixture('container/self/mountinfo'));

function rules(mounts: Partial<MountsSection> = {}): MountRules {
  return new MountRules(CollectSectionSchema.parse({ mounts }).mounts);
}

const mountpoints = (entries: readonly MountEntry[], r = rules(), hostRoot?: string) =>
  selectMounts(entries, r, hostRoot).mounts.map((m) => m.mountpoint);

function entry(mountpoint: string, deviceId: string, fsType = 'ext4', root = '/'): MountEntry {
  return { deviceId, root, mountpoint, fsType, source: `/dev/${deviceId.replace(':', '-')}` };
}

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function capturingLog() {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}

describe('mount selection', () => {
  it('globs: ** crosses segments, * and ? do not, the rest is literal', () => {
    const below = globToRegExp('/var/lib/docker/**');
    assert.ok(below.test('/var/lib/docker/overlay2/x/merged'));
    assert.ok(!below.test('/var/lib/docker'), 'the directory itself is not below itself');
    const child = globToRegExp('/mnt/*');
    assert.ok(child.test('/mnt/disk 1') && !child.test('/mnt/a/b') && !child.test('/mnt'));
    assert.ok(globToRegExp('/data?').test('/data1') && !globToRegExp('/data?').test('/data/'));
    assert.ok(globToRegExp('/a+b(c)[d]').test('/a+b(c)[d]'));
    assert.ok(globToRegExp('fuse.*').test('fuse.sshfs') && !globToRegExp('fuse.*').test('fusexsshfs'));
    assert.ok(globToRegExp('/x/**').test('/x/a\nb'), 'newlines in mountpoints match too');
  });

  it('by default keeps real filesystems, one per device, and skips pseudo, image and runtime mounts', () => {
    assert.deepEqual(mountpoints(HOST), [
      '/',
      '/boot/efi',
      '/data', // not its second mount /mnt/data-again: same device, shorter mountpoint
      '/home', // a btrfs subvolume: its only mount, root /@home
      '/mnt/my disk',
      '/mnt/nfs',
      '/mnt/remote', // fuse.sshfs holds data; fuse.gvfsd-fuse and fuse.portal do not
      '/var/lib/docker', // the runtime's disk itself; the per-container mounts below it are excluded
    ]);
    const root = selectMounts(HOST, rules()).mounts[0];
    assert.deepEqual(root, { device: '/dev/nvme0n1p2', mountpoint: '/', fsType: 'ext4', statPath: '/' });
  });

  it('include narrows by mountpoint, includeTypes by type, and a bind mount then stands for its device', () => {
    assert.deepEqual(mountpoints(HOST, rules({ include: ['/', '/mnt/*'] })), [
      '/',
      '/mnt/data-again', // /data is not included, so its other mount reports the device
      '/mnt/my disk',
      '/mnt/nfs',
      '/mnt/remote',
    ]);
    assert.deepEqual(mountpoints(HOST, rules({ includeTypes: ['ext4', 'xfs'] })), [
      '/',
      '/data',
      '/mnt/my disk',
      '/var/lib/docker',
    ]);
    assert.deepEqual(mountpoints(HOST, rules({ include: ['/var/www'] })), ['/var/www']);
  });

  it('exclude and excludeTypes replace their defaults', () => {
    assert.ok(mountpoints(HOST, rules({ exclude: [] })).includes('/var/lib/docker/devicemapper/mnt/7d9e'));
    const withTmpfs = mountpoints(
      HOST,
      rules({ excludeTypes: ['devtmpfs', 'squashfs', 'overlay', 'fuse.*'] }),
    );
    assert.deepEqual(
      withTmpfs.filter((m) => m.startsWith('/run') || m.startsWith('/dev')),
      ['/run', '/dev/shm', '/run/user/1000'],
    );
    assert.ok(!withTmpfs.includes('/mnt/remote'));
    assert.ok(
      !mountpoints(HOST, rules({ exclude: ['/mnt/**', '/home'] })).some(
        (m) => m.startsWith('/mnt') || m === '/home',
      ),
    );
  });

  it('never admits kernel interfaces, whatever the rules say', () => {
    const r = rules({
      exclude: [],
      excludeTypes: [],
      includeTypes: ['proc', 'sysfs', 'autofs', 'cgroup2', 'ramfs'],
    });
    assert.deepEqual(mountpoints(HOST, r), []);
    assert.ok(!r.admits('/proc', 'proc'));
  });

  it('inside a container, reports the host mounts under hostRoot by their host path', () => {
    const { mounts } = selectMounts(CONTAINER, rules(), '/host');
    assert.deepEqual(
      mounts.map((m) => [m.mountpoint, m.statPath, m.fsType]),
      [
        ['/', '/host', 'ext4'],
        ['/boot/efi', '/host/boot/efi', 'vfat'],
        ['/data', '/host/data', 'xfs'],
      ],
    );
    // Rules speak of host paths: /data, not /host/data.
    assert.deepEqual(mountpoints(CONTAINER, rules({ exclude: ['/data'] }), '/host'), ['/', '/boot/efi']);
  });

  it('lets a later mount hide an earlier one at the same mountpoint', () => {
    const entries = [entry('/', '8:1'), entry('/data', '8:2', 'xfs'), entry('/data', '0:40', 'tmpfs')];
    assert.deepEqual(mountpoints(entries), ['/']);
    const remounted = [entry('/data', '8:2'), entry('/', '8:1'), entry('/data', '8:3')];
    assert.deepEqual(
      selectMounts(remounted, rules()).mounts.map((m) => [m.mountpoint, m.device]),
      [
        ['/', '/dev/8-1'],
        ['/data', '/dev/8-3'],
      ],
    );
  });

  it('leaves out what telemetry cannot carry, and says why', () => {
    const long = `/${'x'.repeat(300)}`;
    const many = Array.from({ length: MAX_FILESYSTEMS + 5 }, (_, i) => entry(`/d${i}`, `8:${i}`));
    const { mounts, skipped } = selectMounts([entry(long, '9:1'), ...many], rules());
    assert.equal(mounts.length, MAX_FILESYSTEMS);
    assert.equal(skipped.length, 6);
    assert.match(skipped[0]!.reason, /longer than 256/);
    assert.match(skipped[1]!.reason, /more than 100 filesystems/);
  });

  it('prefers the mount of the filesystem root over bind mounts of its subdirectories', () => {
    const binds = CONTAINER.filter((e) => e.mountpoint.startsWith('/etc/'));
    const { mounts } = chooseFilesystems(admittedMounts(binds, rules()));
    assert.deepEqual(
      mounts.map((m) => m.mountpoint),
      ['/etc/hosts'],
    );
    assert.deepEqual(mountpoints([...binds, entry('/srv', '259:2', 'ext4', '/srv')]), ['/srv']);
    assert.deepEqual(mountpoints([...binds, entry('/whole/filesystem', '259:2')]), ['/whole/filesystem']);
  });
});

describe('filesystem readings', () => {
  const stats = (over: Partial<StatsFs> = {}): StatsFs => ({
    type: 0xef53,
    bsize: 4096,
    blocks: 1000,
    bfree: 300,
    bavail: 250,
    files: 500,
    ffree: 400,
    ...over,
  });
  const directory = { isDirectory: () => true } as Stats;
  const file = { isDirectory: () => false } as Stats;

  it('counts space as df does: used, free to users, reserved for root', () => {
    const reading = filesystemReading({ device: '/dev/sda1', mountpoint: '/', fsType: 'ext4' }, stats());
    assert.deepEqual(reading, {
      device: '/dev/sda1',
      mountpoint: '/',
      type: 'ext4',
      sizeBytes: 1000 * 4096,
      usedBytes: 700 * 4096,
      freeBytes: 250 * 4096,
      reservedBytes: 50 * 4096,
      inodes: { total: 500, free: 400 },
    });
    const mount = { device: 'd', mountpoint: '/m', fsType: 'btrfs' };
    assert.equal(
      filesystemReading(mount, stats({ files: 0, ffree: 0 }))?.inodes,
      undefined,
      'no inode table',
    );
    assert.equal(filesystemReading(mount, stats({ blocks: 0, bfree: 0, bavail: 0 })), undefined, 'no blocks');
  });

  it('drops file bind mounts, and reads each filesystem with statfs', async () => {
    const { log } = capturingLog();
    const table = [
      '1 0 0:60 / / rw - overlay overlay rw',
      '2 1 259:2 /var/lib/docker/containers/9f/hosts /etc/hosts rw - ext4 /dev/nvme0n1p2 rw',
      '3 1 259:2 /var/lib/docker/volumes/v/_data /srv/data rw - ext4 /dev/nvme0n1p2 rw',
      '',
    ].join('\n');
    const statted: string[] = [];
    const reader = new FilesystemReader({
      readMountTable: () => table,
      rules: rules(),
      problems: new CollectionProblems(log),
      stat: (path) => Promise.resolve(path === '/etc/hosts' ? file : directory),
      statfs: (path) => {
        statted.push(path);
        return Promise.resolve(stats());
      },
    });
    const readings = await reader.read();
    // /etc/hosts has the shorter mountpoint, but it is a file: the volume stands for the disk.
    assert.deepEqual(
      readings.map((r) => r.mountpoint),
      ['/srv/data'],
    );
    await reader.read();
    assert.deepEqual(statted, ['/srv/data', '/srv/data']);
  });

  it('skips a mount whose statfs hangs until it answers, and one that fails, logging each once', async () => {
    const { log, lines } = capturingLog();
    let answer: (s: StatsFs) => void = () => undefined;
    const calls = new Map<string, number>();
    const reader = new FilesystemReader({
      readMountTable: () =>
        '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 0:50 / /mnt/nfs rw - nfs4 srv:/x rw\n3 1 8:3 / /gone rw - ext4 /dev/sdc rw\n',
      rules: rules(),
      problems: new CollectionProblems(log),
      timeoutMs: 20,
      stat: () => Promise.resolve(directory),
      statfs: (path) => {
        calls.set(path, (calls.get(path) ?? 0) + 1);
        if (path === '/mnt/nfs' && calls.get(path) === 1) return new Promise((resolve) => (answer = resolve));
        if (path === '/gone') return Promise.reject(new Error('ENOENT: no such file or directory'));
        return Promise.resolve(stats());
      },
    });
    assert.deepEqual(
      (await reader.read()).map((r) => r.mountpoint),
      ['/'],
    );
    assert.deepEqual(
      (await reader.read()).map((r) => r.mountpoint),
      ['/'],
    );
    assert.equal(calls.get('/mnt/nfs'), 1, 'not asked again while the first call hangs');
    assert.equal(calls.get('/gone'), 2);
    answer(stats());
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      (await reader.read()).map((r) => r.mountpoint),
      ['/', '/mnt/nfs'],
    );
    const warnings = lines.filter((l) => l.level === 40);
    assert.deepEqual(warnings.map((l) => l.mountpoint).sort(), ['/gone', '/mnt/nfs']);
    assert.ok(lines.some((l) => l.msg === 'collection problem cleared' && l.mountpoint === '/mnt/nfs'));
  });

  it('without a mount table, reads nothing', async () => {
    const reader = new FilesystemReader({
      readMountTable: () => undefined,
      rules: rules(),
      problems: new CollectionProblems(capturingLog().log),
    });
    assert.deepEqual(await reader.read(), []);
  });
});
