/**
 * The configuration bundle as local mode serves it to the cloud-init runner's masters
 * (`GET /_local/configuration-bundle.zip`): configuration/ as a zip, without what the deployed
 * asset leaves out (CONFIGURATION_BUNDLE_EXCLUDES), so a master unpacks the same tree either way.
 * The files are stored, not compressed: the bundle is small and read once per run.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { CONFIGURATION_BUNDLE_EXCLUDES } from '../aws/constructs/configuration-bundle.ts';

const ROOT = path.resolve(import.meta.dirname, '../../configuration');

/** Whether a path of the bundle (with `/`) is one the asset leaves out: a path and what is under it, or a name or extension anywhere. */
const excluded = (relative: string): boolean =>
  CONFIGURATION_BUNDLE_EXCLUDES.some((pattern) => {
    if (!pattern.startsWith('**/')) return relative === pattern || relative.startsWith(`${pattern}/`);
    const tail = pattern.slice(3);
    return tail.startsWith('*.') ? relative.endsWith(tail.slice(1)) : relative.split('/').includes(tail);
  });

const filesUnder = async (dir: string, prefix = ''): Promise<string[]> => {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(async (entry) => {
        const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
        if (excluded(relative)) return [];
        if (entry.isDirectory()) return filesUnder(path.join(dir, entry.name), relative);
        return entry.isFile() ? [relative] : [];
      }),
  );
  return nested.flat();
};

interface ZipEntry {
  name: string;
  data: Buffer;
  mode: number;
}

/** A zip of `entries`, stored; unix modes kept (run-profile.sh stays executable). */
export const zipStored = (entries: ZipEntry[]): Buffer => {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const crc = crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // names in UTF-8
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(0, 10); // time, date: none
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(entry.data.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(entry.data.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(0, 30); // extra, comment lengths
    central.writeUInt32LE(0, 34); // disk, internal attributes
    central.writeUInt32LE(((0o100000 | entry.mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, entry.data);
    centrals.push(central, name);
    offset += local.length + name.length + entry.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
};

/** configuration/ as the bundle, read now. */
export const configurationBundleZip = async (root = ROOT): Promise<Buffer> => {
  const files = await filesUnder(root);
  const entries = await Promise.all(
    files.map(async (name) => ({ name, data: await readFile(path.join(root, name)), mode: (await stat(path.join(root, name))).mode & 0o777 })),
  );
  return zipStored(entries);
};
