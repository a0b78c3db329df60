/**
 * `/proc/<pid>/mountinfo`: the mount table of a mount namespace (proc(5)).
 * One line per mount:
 *
 *     36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *     (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
 *
 * (7) is zero or more optional fields closed by the `-` separator (8).
 * Paths escape space, tab, newline and backslash as octal (`\040`).
 */

export interface MountEntry {
  /** `major:minor` of the filesystem's device (anonymous `0:N` for virtual and network filesystems). */
  readonly deviceId: string;
  /** The directory of the filesystem this mount shows: `/` for the whole filesystem, a subdirectory for a bind mount of it. */
  readonly root: string;
  readonly mountpoint: string;
  readonly fsType: string;
  /** The mount source: a device path, `server:/export`, or a free-form name (`tmpfs`, `overlay`). */
  readonly source: string;
}

/** Every well-formed line; malformed ones are skipped. */
export function parseMountinfo(text: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (fields.length < 10 || separator < 0 || separator + 2 >= fields.length) continue;
    const deviceId = fields[2]!;
    if (!/^\d+:\d+$/.test(deviceId)) continue;
    mounts.push({
      deviceId,
      root: unescapeOctal(fields[3]!),
      mountpoint: unescapeOctal(fields[4]!),
      fsType: fields[separator + 1]!,
      source: unescapeOctal(fields[separator + 2]!),
    });
  }
  return mounts;
}

/** `\040` → space: the kernel escapes ` `, `\t`, `\n` and `\` in paths as three octal digits. */
export function unescapeOctal(field: string): string {
  if (!field.includes('\\')) return field;
  return field.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}
