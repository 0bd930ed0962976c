// One conformance suite (STYLE.md item 5) over an `FsLike`: the same table of operations and
// expected results runs against the VFS directly, the WebDAV server and the FUSE mount
// (test/fuse-conformance.test.ts; adapters in ./adapters.ts). Every run gets its own emulator over
// the same data folder (files with chosen modification times: the emulator uses a file's mtime as
// its message's date), so expected sizes, dates and bytes are those of the source files.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MiB } from '../helpers/emulator-fixture';
import { startWebdavFixture, type SourceFile, type WebdavFixture } from '../helpers/webdav-fixture';
import { keystream } from '../../support/bytes';

/** What an error means, whatever the front-end's way of saying it (errno, HTTP status, VfsError). */
export type FsErrorClass = 'not-found' | 'read-only' | 'invalid' | 'is-dir' | 'not-dir' | 'io' | `other:${string}`;

export interface FsStat {
  size: number;
  mtimeMs: number;
  isDir: boolean;
}

/** Paths are absolute within the tree: `/`, `/channel`, `/channel/file`. */
export interface FsLike {
  /** Entry names (any order). */
  readdir(path: string): Promise<string[]>;
  stat(path: string): Promise<FsStat>;
  /** Up to `length` bytes at `offset` (fewer at the end of the file). */
  read(path: string, offset: number, length: number): Promise<Buffer>;
  /** Tries to create or overwrite `path` with a few bytes; the class of the error, or 'written'. */
  tryWrite(path: string): Promise<FsErrorClass | 'written'>;
  /** The class of an error thrown by readdir/stat/read. */
  errorClass(err: unknown): FsErrorClass;
  close(): Promise<void>;
}

export interface ConformanceEnv {
  fixture: WebdavFixture;
  configPath: string;
}

// ---- the data ------------------------------------------------------------------------------------

const BASE_MS = Date.UTC(2024, 2, 10, 12, 0, 0);
const BIG = 3 * MiB + 12345;

interface Spec {
  size: number;
  /** Seconds after BASE_MS: the message date. */
  at: number;
}

export const CONFORMANCE_FILES: Record<string, Spec> = {
  'alpha/big.bin': { size: BIG, at: 0 },
  'alpha/small.txt': { size: 1000, at: 3600 },
  'alpha/exact-1MiB.bin': { size: MiB, at: 7207 },
  'beta/one.bin': { size: 4095, at: 86_400 },
};

const bytesOf = new Map<string, Buffer>(Object.entries(CONFORMANCE_FILES).map(([rel, s]) => [rel, keystream(s.size, `conf/${rel}`)]));
const mtimeOf = (rel: string): number => BASE_MS + CONFORMANCE_FILES[rel]!.at * 1000;

export function conformanceSources(): Record<string, SourceFile> {
  const out: Record<string, SourceFile> = {};
  for (const rel of Object.keys(CONFORMANCE_FILES)) out[rel] = { bytes: bytesOf.get(rel)!, mtime: new Date(mtimeOf(rel)) };
  return out;
}

// ---- the table -----------------------------------------------------------------------------------

type Outcome = { value: unknown } | { error: FsErrorClass[] };

interface Row {
  name: string;
  run(fs: FsLike): Promise<unknown>;
  want: Outcome;
}

const visible = (names: string[]): string[] => names.filter((n) => !n.startsWith('.')).sort();
const statOf = (s: FsStat): FsStat => ({ size: s.size, mtimeMs: s.mtimeMs, isDir: s.isDir });
const src = (rel: string, offset: number, length: number): Buffer => bytesOf.get(rel)!.subarray(offset, offset + length);
/** Buffers compared by length and sha-free identity, shown short on failure. */
const hex = (b: Buffer): string => `${b.length} bytes ${b.subarray(0, 8).toString('hex')}…${b.subarray(-8).toString('hex')}`;

function readRow(rel: string, offset: number, length: number, label: string): Row {
  return { name: `read ${label}: /${rel} [${offset}, +${length})`, run: async (fs) => hex(await fs.read(`/${rel}`, offset, length)), want: { value: hex(src(rel, offset, length)) } };
}

export const TABLE: Row[] = [
  { name: 'readdir / (channels; dot-names aside)', run: async (fs) => visible(await fs.readdir('/')), want: { value: ['alpha', 'beta'] } },
  { name: 'readdir /alpha', run: async (fs) => visible(await fs.readdir('/alpha')), want: { value: ['big.bin', 'exact-1MiB.bin', 'small.txt'] } },
  { name: 'readdir /beta', run: async (fs) => visible(await fs.readdir('/beta')), want: { value: ['one.bin'] } },
  { name: 'stat /alpha is a folder', run: async (fs) => (await fs.stat('/alpha')).isDir, want: { value: true } },
  { name: 'stat / is a folder', run: async (fs) => (await fs.stat('/')).isDir, want: { value: true } },
  ...Object.keys(CONFORMANCE_FILES).map((rel): Row => ({
    name: `stat /${rel}: size and mtime = the source's size and message date`,
    run: async (fs) => statOf(await fs.stat(`/${rel}`)),
    want: { value: { size: CONFORMANCE_FILES[rel]!.size, mtimeMs: mtimeOf(rel), isDir: false } },
  })),
  readRow('alpha/big.bin', 0, 4096, 'first 4 KiB'),
  readRow('alpha/big.bin', BIG - 4096, 4096, 'last 4 KiB'),
  readRow('alpha/big.bin', MiB - 2048, 4096, 'across 1 MiB'),
  readRow('alpha/big.bin', 2 * MiB - 100_000, 300_000, 'across 2 MiB, 300 kB'),
  readRow('alpha/big.bin', BIG - 1, 1, 'last byte'),
  { name: 'read past the end is short: /alpha/big.bin [size-10, +100)', run: async (fs) => (await fs.read('/alpha/big.bin', BIG - 10, 100)).length, want: { value: 10 } },
  readRow('alpha/small.txt', 0, 1000, 'whole'),
  readRow('alpha/exact-1MiB.bin', MiB - 4096, 4096, 'last 4 KiB'),
  readRow('beta/one.bin', 0, 4095, 'whole'),
  { name: 'stat of a missing file: not-found', run: (fs) => fs.stat('/alpha/missing.bin'), want: { error: ['not-found'] } },
  { name: 'read of a missing file: not-found', run: (fs) => fs.read('/alpha/missing.bin', 0, 10), want: { error: ['not-found'] } },
  { name: 'readdir of a missing channel: not-found', run: (fs) => fs.readdir('/nochannel'), want: { error: ['not-found'] } },
  { name: 'write of a new file: read-only', run: (fs) => fs.tryWrite('/alpha/new.txt'), want: { value: 'read-only' } },
  { name: 'write over an existing file: read-only', run: (fs) => fs.tryWrite('/alpha/small.txt'), want: { value: 'read-only' } },
  { name: '`..` cannot climb out of the tree', run: (fs) => fs.read('/alpha/../../etc/passwd', 0, 100), want: { error: ['invalid', 'not-found'] } },
];

// ---- the suite -----------------------------------------------------------------------------------

/**
 * Runs TABLE against the FsLike `makeFs` builds on a fresh emulator (one test per row, so the
 * report shows every divergence, not just the first).
 */
export function conformanceSuite(name: string, makeFs: (env: ConformanceEnv) => Promise<FsLike>): void {
  describe(`conformance: ${name}`, { timeout: 180_000 }, () => {
    let fixture: WebdavFixture | undefined;
    let fs: FsLike | undefined;
    let setupError: unknown;

    before(async () => {
      try {
        fixture = await startWebdavFixture(conformanceSources());
        fs = await makeFs({ fixture, configPath: fixture.configPath });
      } catch (err) {
        setupError = err;
      }
    });

    after(async () => {
      await fs?.close().catch(() => undefined);
      await fixture?.close();
    });

    it('sets up', () => {
      if (setupError) throw setupError;
    });

    for (const row of TABLE) {
      it(row.name, { timeout: 30_000 }, async () => {
        if (!fs) throw new Error(`no ${name} to test (setup failed: ${(setupError as Error)?.message ?? setupError})`);
        let got: Outcome;
        try {
          got = { value: await row.run(fs) };
        } catch (err) {
          const cls = fs.errorClass(err);
          got = { error: [cls] };
          if ('value' in row.want) {
            throw new Error(`${row.name}: expected ${JSON.stringify(row.want.value)}, got an error (${cls}): ${(err as Error)?.message ?? err}`);
          }
        }
        if ('value' in row.want) {
          assert.deepEqual(got, row.want);
        } else {
          assert.ok('error' in got, `${row.name}: expected an error (${row.want.error.join(' or ')}), got ${JSON.stringify((got as { value: unknown }).value)}`);
          assert.ok(row.want.error.includes(got.error[0]!), `${row.name}: expected ${row.want.error.join(' or ')}, got ${got.error[0]}`);
        }
      });
    }
  });
}
