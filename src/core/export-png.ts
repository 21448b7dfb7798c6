// Heatmap of one head's pooled attention as a PNG, with a minimal encoder (RGB, 8 bits, no
// filtering, zlib from node:zlib) so that exports need no image dependency.
import * as zlib from 'node:zlib';
import { headPooled } from './analysis';
import type { Inspection } from './inspection-types';

// Viridis at five stops; weights go through sqrt first because most are tiny.
const STOPS: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];
/** Cells no query can see (keys after every query of the bin). */
export const MASKED_RGB: [number, number, number] = [30, 30, 30];

export function weightColor(weight: number): [number, number, number] {
  const x = Math.sqrt(Math.min(1, Math.max(0, weight))) * (STOPS.length - 1);
  const i = Math.min(Math.floor(x), STOPS.length - 2);
  const f = x - i;
  const a = STOPS[i];
  const b = STOPS[i + 1];
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

const CRC_TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data.buffer, data.byteOffset, data.length).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** PNG of an RGB image, rows top to bottom, 3 bytes a pixel. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  if (rgb.length !== width * height * 3) throw new Error(`png: expected ${width * height * 3} bytes of RGB, got ${rgb.length}`);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    // Filter byte 0 (none) leads each row.
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (1 + width * 3) + 1);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/** sizePx x sizePx image of the head's pooled map: queries down, keys across. */
export function renderHeatmapPng(insp: Inspection, layer: number, head: number, sizePx: number): Buffer {
  if (!Number.isInteger(sizePx) || sizePx < 1 || sizePx > 8192) throw new RangeError(`image size ${sizePx} must be an integer in 1..8192`);
  const map = headPooled(insp, layer, head);
  const bins = insp.pooled.bins;
  const cells = new Uint8Array(bins * bins * 3);
  for (let a = 0; a < bins; a++) {
    for (let b = 0; b < bins; b++) cells.set(b > a ? MASKED_RGB : weightColor(map[a * bins + b]), (a * bins + b) * 3);
  }
  const rgb = new Uint8Array(sizePx * sizePx * 3);
  const binOf = Int32Array.from({ length: sizePx }, (_, p) => Math.floor((p * bins) / sizePx));
  for (let y = 0; y < sizePx; y++) {
    const row = binOf[y] * bins;
    for (let x = 0; x < sizePx; x++) rgb.set(cells.subarray((row + binOf[x]) * 3, (row + binOf[x]) * 3 + 3), (y * sizePx + x) * 3);
  }
  return encodePng(sizePx, sizePx, rgb);
}
