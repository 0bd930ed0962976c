// Media for the WebDAV client tests: a large mp4 whose `moov` box is at the end (what ffmpeg
// writes without +faststart), made once with ffmpeg and cached in os.tmpdir() under a name keyed by
// the parameters. (Fast deterministic bytes are support/bytes' keystream.)
import { createHash } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { requireProgram, run } from '../../support/programs';

export interface Mp4Box {
  type: string;
  start: number;
  size: number;
}

/** The top-level boxes of an mp4 file (type, offset, size). */
export async function mp4Boxes(file: string): Promise<Mp4Box[]> {
  const fh = await open(file, 'r');
  try {
    const { size: total } = await fh.stat();
    const boxes: Mp4Box[] = [];
    const head = Buffer.alloc(16);
    for (let pos = 0; pos < total;) {
      const { bytesRead } = await fh.read(head, 0, 16, pos);
      if (bytesRead < 8) throw new Error(`${file}: truncated box header at ${pos}`);
      let size = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (size === 1) size = Number(head.readBigUInt64BE(8));
      else if (size === 0) size = total - pos;
      if (size < 8) throw new Error(`${file}: bad box size ${size} at ${pos}`);
      boxes.push({ type, start: pos, size });
      pos += size;
    }
    return boxes;
  } finally {
    await fh.close();
  }
}

export interface TestVideo {
  path: string;
  size: number;
  /** Seconds, as encoded. */
  duration: number;
  /** Offset of the moov box (after mdat: near the end of the file). */
  moovStart: number;
  /** Offset and size of the mdat box. */
  mdat: Mp4Box;
}

export interface TestVideoOptions {
  seconds?: number;
  /** Constant bit rate in bits/s: seconds × bitrate / 8 is about the file size. */
  bitrate?: number;
  size?: string;
  minBytes?: number;
}

async function describeVideo(file: string, duration: number, minBytes: number): Promise<TestVideo> {
  const boxes = await mp4Boxes(file);
  const moov = boxes.find((b) => b.type === 'moov');
  const mdat = boxes.find((b) => b.type === 'mdat');
  if (!moov || !mdat) throw new Error(`${file}: no moov or mdat box (${boxes.map((b) => b.type).join(',')})`);
  if (moov.start < mdat.start) throw new Error(`${file}: moov is before mdat (faststart), the test needs it at the end`);
  const { size } = await stat(file);
  if (size < minBytes) throw new Error(`${file}: ${size} bytes, fewer than the ${minBytes} the test needs`);
  return { path: file, size, duration, moovStart: moov.start, mdat };
}

/**
 * A `seconds`-long 25 fps H.264 video (ffmpeg's testsrc) at a constant bit rate high enough for
 * the file to reach `minBytes` (x264 pads with filler NAL units under nal-hrd=cbr), moov at the
 * end. Cached in os.tmpdir() by parameters; a cached file that no longer fits is made again.
 */
export async function testVideo(options: TestVideoOptions = {}): Promise<TestVideo> {
  const seconds = options.seconds ?? 60;
  const bitrate = options.bitrate ?? 15_000_000;
  const frame = options.size ?? '320x240';
  const minBytes = options.minBytes ?? 100 * 1000 * 1000;
  const key = createHash('sha256').update(JSON.stringify({ v: 1, seconds, bitrate, frame })).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `tgvfs-test-video-${seconds}s-${bitrate}bps-${key}.mp4`);
  try {
    return await describeVideo(file, seconds, minBytes);
  } catch {
    /* absent or unusable: make it */
  }
  const ffmpeg = requireProgram('ffmpeg');
  const tmp = `${file}.${process.pid}.tmp.mp4`;
  const rate = String(bitrate);
  try {
    await run(ffmpeg, [
      '-hide_banner', '-loglevel', 'error', '-y',
      '-f', 'lavfi', '-i', `testsrc=size=${frame}:rate=25`, '-t', String(seconds),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
      '-b:v', rate, '-minrate', rate, '-maxrate', rate, '-bufsize', rate, '-x264-params', 'nal-hrd=cbr',
      '-f', 'mp4', tmp,
    ], { timeoutMs: 120_000 });
    const v = await describeVideo(tmp, seconds, minBytes);
    await rename(tmp, file);
    return { ...v, path: file };
  } finally {
    await rm(tmp, { force: true });
  }
}
