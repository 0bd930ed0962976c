// Sample channels for `tgvfs demo`, made once in the demo folder and reused afterwards:
//   <dir>/channels/videos/     short test videos made with ffmpeg when it is on PATH (one with
//                              the moov atom at the end, ffmpeg's default for mp4, one with
//                              +faststart), each with a thumbnail x.jpg; plain files without ffmpeg
//   <dir>/channels/documents/  text and binary files of various sizes, one of ~50 MB
// Every file is written under a dot name (which the emulator ignores) and renamed when complete,
// so an interrupted run leaves no half file behind; a file that is already there is kept.
import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findExecutable } from './find-executable';

export const DEMO_CHANNELS = ['videos', 'documents'] as const;

/** `$XDG_CACHE_HOME/tgvfs/demo`, or `~/.cache/tgvfs/demo` when that is unset or relative. */
export function defaultDemoDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const cache = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(cache, 'tgvfs', 'demo');
}

export interface DemoDataOptions {
  /**
   * The demo folder; channels go to `<dir>/channels`.
   * @default defaultDemoDir()
   */
  dir?: string;
  /**
   * ffmpeg to make the sample videos with; `false` writes plain files instead.
   * @default ffmpeg on PATH, if any
   */
  ffmpeg?: string | false;
  /**
   * Longest run of one ffmpeg command, in milliseconds.
   * @default 120000
   */
  ffmpegTimeoutMs?: number;
  /** One line per notable step (what is generated, a fallback). */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface DemoData {
  dir: string;
  /** The emulator's data folder: one subfolder per channel. */
  dataDir: string;
  /** Paths (relative to dataDir) written by this call; empty when everything was there. */
  created: string[];
  /** How the videos channel is filled. */
  videos: 'ffmpeg' | 'plain files';
}

export class DemoDataError extends Error {
  override name = 'DemoDataError';
  readonly code = 'DEMO_DATA';
}

interface VideoSpec {
  name: string;
  /** lavfi video source. */
  source: string;
  seconds: number;
  /** Sine tone of the audio track, Hz. */
  tone: number;
  faststart: boolean;
}

const VIDEOS: readonly VideoSpec[] = [
  { name: 'testsrc-moov-at-end.mp4', source: 'testsrc=size=640x360:rate=25', seconds: 20, tone: 440, faststart: false },
  { name: 'testsrc2-faststart.mp4', source: 'testsrc2=size=640x360:rate=25', seconds: 20, tone: 660, faststart: true },
  { name: 'smptebars-moov-at-end.mp4', source: 'smptebars=size=640x360:rate=25', seconds: 10, tone: 880, faststart: false },
];

const NO_FFMPEG_NOTE = 'no-ffmpeg.txt';

interface PlainSpec {
  name: string;
  size: number;
  kind: 'text' | 'csv' | 'binary';
}

/** Stand-ins for the videos when ffmpeg is missing; removed once real videos are made. */
const VIDEO_PLACEHOLDERS: readonly PlainSpec[] = [
  { name: 'placeholder-3MiB.bin', size: 3 * 1024 * 1024, kind: 'binary' },
  { name: 'placeholder-5MB.bin', size: 5_000_000, kind: 'binary' },
];

const DOCUMENTS: readonly PlainSpec[] = [
  { name: 'hello.txt', size: 0, kind: 'text' }, // size 0: the fixed greeting below
  { name: 'lines-64KiB.txt', size: 64 * 1024, kind: 'text' },
  { name: 'table-1MB.csv', size: 1_000_000, kind: 'csv' },
  { name: 'one-MiB-plus-one.bin', size: 1024 * 1024 + 1, kind: 'binary' },
  { name: 'large-50MiB.bin', size: 50 * 1024 * 1024 + 777, kind: 'binary' },
];

const HELLO = `Hello from the tgvfs demo.

This file is message 1 of the "documents" channel that the demo's emulator serves. Its
neighbours have sizes chosen to meet Telegram's part rules: upload.getFile reads whole 4 KiB
pieces and never crosses a 1 MiB boundary, so one-MiB-plus-one.bin ends one byte into its
second mebibyte, and large-50MiB.bin is big enough that seeking without downloading matters.
`;

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

async function exists(p: string): Promise<{ size: number } | undefined> {
  try {
    const st = await stat(p);
    return st.isFile() ? { size: st.size } : undefined;
  } catch {
    return undefined;
  }
}

/** A hidden sibling to write into before the rename; the emulator skips dot names. */
function partialPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.partial`);
}

/** Deterministic bytes: AES-256-CTR keystream keyed by the name, fast enough for 50 MB. */
function binaryChunks(name: string): (length: number) => Buffer {
  const key = createHash('sha256').update(`tgvfs demo ${name}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return (length) => cipher.update(Buffer.alloc(length));
}

function textContent(spec: PlainSpec): Buffer {
  if (spec.size === 0) return Buffer.from(HELLO);
  const lines: string[] = [];
  let length = 0;
  for (let i = 1; length < spec.size; i++) {
    const line =
      spec.kind === 'csv'
        ? i === 1
          ? 'id,name,value,checksum\n'
          : `${i - 1},item-${String(i - 1).padStart(6, '0')},${((i * 7919) % 100000) / 100},${createHash('md5').update(String(i)).digest('hex').slice(0, 8)}\n`
        : `line ${String(i).padStart(5, '0')}: the quick brown fox jumps over the lazy dog\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, spec.size);
}

async function writePlain(file: string, spec: PlainSpec, signal: AbortSignal | undefined): Promise<void> {
  const tmp = partialPath(file);
  try {
    if (spec.kind !== 'binary') {
      await writeFile(tmp, textContent(spec));
    } else {
      const next = binaryChunks(spec.name);
      const fh = await open(tmp, 'w');
      try {
        for (let at = 0; at < spec.size; at += 1 << 20) {
          throwIfAborted(signal);
          await fh.write(next(Math.min(1 << 20, spec.size - at)));
        }
      } finally {
        await fh.close();
      }
    }
    throwIfAborted(signal);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Runs ffmpeg; rejects with the end of its stderr on failure, `signal.reason` on abort. */
function runFfmpeg(ffmpeg: string, args: string[], timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  throwIfAborted(signal);
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    let failure: unknown;
    const fail = (err: unknown): void => {
      failure ??= err;
      child.kill('SIGKILL');
    };
    const onAbort = (): void => fail(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => fail(new DemoDataError(`ffmpeg took longer than ${timeoutMs} ms`)), timeoutMs);
    child.once('error', (err) => fail(new DemoDataError(`cannot run ${ffmpeg}: ${err.message}`)));
    child.once('close', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (failure !== undefined) return reject(failure);
      if (code === 0) return resolve();
      const last = stderr.trim().split('\n').pop() ?? '';
      reject(new DemoDataError(`ffmpeg exited with code ${code}${last ? `: ${last}` : ''}`));
    });
  });
}

async function makeVideo(ffmpeg: string, file: string, v: VideoSpec, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  const tmp = partialPath(file);
  try {
    await runFfmpeg(
      ffmpeg,
      [
        '-f', 'lavfi', '-i', v.source,
        '-f', 'lavfi', '-i', `sine=frequency=${v.tone}`,
        '-t', String(v.seconds),
        '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
        // Without +faststart ffmpeg writes the moov atom after the media data (at the end).
        ...(v.faststart ? ['-movflags', '+faststart'] : []),
        '-f', 'mp4', tmp,
      ],
      timeoutMs,
      signal,
    );
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

async function makeThumbnail(ffmpeg: string, video: string, jpg: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  const tmp = partialPath(jpg);
  try {
    await runFfmpeg(ffmpeg, ['-ss', '2', '-i', video, '-frames:v', '1', '-vf', 'scale=320:-1', '-f', 'mjpeg', tmp], timeoutMs, signal);
    await rename(tmp, jpg);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Removes `.x.partial` files left by a run that was killed outright. */
async function removePartials(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith('.') && name.endsWith('.partial')) await rm(path.join(dir, name), { force: true });
  }
}

/** Creates what is missing of the sample channels and returns where they are. */
export async function ensureDemoData(opts: DemoDataOptions = {}): Promise<DemoData> {
  const dir = path.resolve(opts.dir ?? defaultDemoDir());
  const dataDir = path.join(dir, 'channels');
  const log = opts.log ?? (() => undefined);
  const signal = opts.signal;
  const timeoutMs = opts.ffmpegTimeoutMs ?? 120_000;
  const ffmpeg = opts.ffmpeg === undefined ? findExecutable('ffmpeg') : opts.ffmpeg || undefined;
  const created: string[] = [];
  const videosDir = path.join(dataDir, 'videos');
  const docsDir = path.join(dataDir, 'documents');
  for (const d of [videosDir, docsDir]) {
    await mkdir(d, { recursive: true });
    await removePartials(d);
  }

  const plain = async (channelDir: string, spec: PlainSpec): Promise<void> => {
    const file = path.join(channelDir, spec.name);
    const want = spec.size === 0 ? Buffer.byteLength(HELLO) : spec.size;
    if ((await exists(file))?.size === want) return;
    throwIfAborted(signal);
    await writePlain(file, spec, signal);
    created.push(path.relative(dataDir, file));
  };

  let videos: DemoData['videos'] = 'plain files';
  if (ffmpeg) {
    try {
      for (const v of VIDEOS) {
        const file = path.join(videosDir, v.name);
        const jpg = file.replace(/\.mp4$/, '.jpg');
        if (!(await exists(file))?.size) {
          log(`making ${v.name} (${v.seconds} s) with ffmpeg`);
          await makeVideo(ffmpeg, file, v, timeoutMs, signal);
          created.push(path.relative(dataDir, file));
        }
        if (!(await exists(jpg))?.size) {
          await makeThumbnail(ffmpeg, file, jpg, timeoutMs, signal);
          created.push(path.relative(dataDir, jpg));
        }
      }
      videos = 'ffmpeg';
      for (const p of [...VIDEO_PLACEHOLDERS.map((s) => s.name), NO_FFMPEG_NOTE]) await rm(path.join(videosDir, p), { force: true });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      log(`ffmpeg failed (${err instanceof Error ? err.message : String(err)}); the videos channel gets plain files instead`);
    }
  } else {
    log('ffmpeg is not on PATH: the videos channel gets plain files instead of videos (install ffmpeg and run again for real ones)');
  }
  if (videos === 'plain files') {
    const note = path.join(videosDir, NO_FFMPEG_NOTE);
    if (!(await exists(note))) {
      await writeFile(note, 'ffmpeg was not available when this demo folder was made, so this channel holds plain files.\n' +
        'Install ffmpeg and run "tgvfs demo" again: it adds short test videos with thumbnails.\n');
      created.push(path.relative(dataDir, note));
    }
    for (const spec of VIDEO_PLACEHOLDERS) await plain(videosDir, spec);
  }

  for (const spec of DOCUMENTS) await plain(docsDir, spec);
  return { dir, dataDir, created, videos };
}
