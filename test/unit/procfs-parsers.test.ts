import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseCgroupV2Path, parseMemoryMax } from '../../agent/collectors/procfs/cgroup.js';
import { fileDescriptorUtilization, parseFileNr } from '../../agent/collectors/procfs/file-nr.js';
import { memoryOf, parseMeminfo, swapOf } from '../../agent/collectors/procfs/meminfo.js';
import { parseMountinfo, unescapeOctal } from '../../agent/collectors/procfs/mountinfo.js';
import { parseNetDev } from '../../agent/collectors/procfs/net-dev.js';
import { parsePressure } from '../../agent/collectors/procfs/pressure.js';
import { cpuUtilization, parseCpuTimes } from '../../agent/collectors/procfs/stat.js';

const fixture = (path: string) =>
  readFileSync(new URL(`../fixtures/procfs/${path}`, import.meta.url), 'utf8');
const KiB = 1024;

describe('procfs parsers', () => {
  it('reads the mount table, optional fields, escapes and all', () => {
    const mounts = parseMountinfo(fixture('host/self/mountinfo'));
    assert.equal(mounts.length, 36);
    assert.deepEqual(mounts[0], {
      deviceId: '259:2',
      root: '/',
      mountpoint: '/',
      fsType: 'ext4',
      source: '/dev/nvme0n1p2',
    });
    const spaced = mounts.find((m) => m.deviceId === '8:17');
    assert.equal(spaced?.mountpoint, '/mnt/my disk');
    const bind = mounts.find((m) => m.mountpoint === '/var/www');
    assert.equal(bind?.root, '/srv/www');
    const nsfs = mounts.find((m) => m.fsType === 'nsfs');
    assert.equal(nsfs?.root, 'net:[4026532563]');
    assert.equal(mounts.find((m) => m.fsType === 'nfs4')?.source, 'fileserver:/export/team');
    // No optional fields at all (container/), and several (host/).
    assert.equal(parseMountinfo(fixture('container/self/mountinfo')).length, 18);
  });

  it('skips malformed mount lines', () => {
    const text = [
      'garbage',
      '22 1 259:2 / / rw,relatime shared:1 ext4 /dev/sda1 rw', // no separator
      '22 1 x:y / / rw - ext4 /dev/sda1 rw', // bad device id
      '22 1 8:1 / /ok rw - ext4 /dev/sda1 rw',
      '',
    ].join('\n');
    assert.deepEqual(
      parseMountinfo(text).map((m) => m.mountpoint),
      ['/ok'],
    );
    assert.equal(unescapeOctal('/a\\040b\\011c\\134d\\012e'), '/a b\tc\\d\ne');
  });

  it('reads CPU times and the busy share between two readings', () => {
    const times = parseCpuTimes(fixture('host/stat'));
    // busy = user + nice + system + irq + softirq; total adds idle, iowait, steal (guest is inside user).
    assert.deepEqual(times, {
      busy: 1053675 + 120 + 68447 + 10 + 549,
      total: 1053675 + 120 + 68447 + 10 + 549 + 1162449 + 1954 + 435,
    });
    const before = parseCpuTimes('cpu  100 0 50 850 0 0 0 0 0 0\n')!;
    const after = parseCpuTimes('cpu  160 0 70 900 20 0 0 0 0 0\n')!;
    assert.equal(cpuUtilization(before, after), 80 / 150);
    assert.equal(cpuUtilization(before, before), undefined, 'no time passed');
    assert.equal(cpuUtilization(after, before), undefined, 'counters went back');
    // Old kernels print four fields; the rest count as 0.
    assert.deepEqual(parseCpuTimes('cpu 1 2 3 4\n'), { busy: 6, total: 10 });
    assert.equal(parseCpuTimes('cpu0 1 2 3 4\n'), undefined);
    assert.equal(parseCpuTimes('cpu  1 x 3 4\n'), undefined);
    assert.equal(parseCpuTimes(''), undefined);
  });

  it('reads memory and swap in bytes, used = total − available', () => {
    const meminfo = parseMeminfo(fixture('host/meminfo'));
    assert.equal(meminfo.get('HugePages_Total'), 0, 'a count without unit stays a count');
    assert.deepEqual(memoryOf(meminfo), {
      totalBytes: 16303404 * KiB,
      freeBytes: 1204256 * KiB,
      availableBytes: 9870124 * KiB,
    });
    assert.deepEqual(swapOf(meminfo), { totalBytes: 4194300 * KiB, freeBytes: 3145724 * KiB });
  });

  it('estimates available memory on kernels before MemAvailable', () => {
    const meminfo = parseMeminfo(fixture('no-psi/meminfo'));
    // free + buffers + cached + reclaimable slab
    assert.equal(memoryOf(meminfo)?.availableBytes, (512000 + 64000 + 256000 + 32000) * KiB);
    assert.deepEqual(swapOf(meminfo), { totalBytes: 0, freeBytes: 0 });
    assert.equal(memoryOf(parseMeminfo('MemFree: 10 kB\n')), undefined);
  });

  it('reads file-nr: in use ÷ maximum', () => {
    const reading = parseFileNr(fixture('host/sys/fs/file-nr'));
    assert.deepEqual(reading, { inUse: 10240, max: 1048576 });
    assert.equal(fileDescriptorUtilization(reading!), 10240 / 1048576);
    // systemd sets file-max to LONG_MAX: a tiny share, not a parse failure.
    const huge = parseFileNr(fixture('no-psi/sys/fs/file-nr'))!;
    assert.ok(fileDescriptorUtilization(huge)! < 1e-12);
    assert.deepEqual(parseFileNr('2000 500 10000'), { inUse: 1500, max: 10000 });
    assert.equal(fileDescriptorUtilization({ inUse: 5, max: 0 }), undefined);
    assert.equal(parseFileNr('1 2'), undefined);
    assert.equal(parseFileNr('a b c'), undefined);
  });

  it('reads pressure files as 0..1 shares, exactly', () => {
    assert.deepEqual(parsePressure(fixture('host/pressure/io')), {
      some: { avg10: 0.1395, avg60: 0.095 },
      full: { avg10: 0.112, avg60: 0.0725 },
    });
    // Kernels before 5.13 have no cpu "full" line.
    assert.deepEqual(parsePressure('some avg10=5.58 avg60=27.77 avg300=25.93 total=1947809251\n'), {
      some: { avg10: 0.0558, avg60: 0.2777 },
    });
    assert.deepEqual(parsePressure('some avg10=x avg60=1.00\nfull avg10=101.00 avg60=1.00\nother\n'), {});
  });

  it('reads interface byte counters, a counter touching the colon included', () => {
    assert.deepEqual(parseNetDev(fixture('host/net/dev')), [
      { name: 'lo', receiveBytes: 20466271, transmitBytes: 20466271 },
      { name: 'eth0', receiveBytes: 1234567890123456, transmitBytes: 2813278 },
      { name: 'docker0', receiveBytes: 104857, transmitBytes: 209715 },
      { name: 'vethab12cd', receiveBytes: 2048, transmitBytes: 4096 },
    ]);
  });

  it('reads the cgroup v2 path and memory.max', () => {
    assert.equal(parseCgroupV2Path(fixture('host/self/cgroup')), '/system.slice/cloudsense-agent.service');
    assert.equal(parseCgroupV2Path('4:memory:/docker/abc\n1:name=systemd:/\n'), undefined);
    assert.equal(parseCgroupV2Path('0::\n'), '/');
    assert.equal(parseMemoryMax('536870912\n'), 536870912);
    assert.equal(parseMemoryMax('max\n'), undefined);
  });
});
