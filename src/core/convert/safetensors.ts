// Reads Hugging Face weights without loading them whole: the safetensors headers of one file or of
// the shards an index names, then one tensor at a time as float32 (F32, F16 and BF16 stored).
// Layout: an 8-byte little-endian header length, a JSON header { name: { dtype, shape,
// data_offsets: [begin, end] } } with offsets counted after the header, then the raw bytes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConvertError } from './convert-error';

export interface TensorEntry {
  name: string;
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
  file: string;
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

const FLOAT_BYTES = { F32: 4, F16: 2, BF16: 2 } as const;
/** The safetensors format's own cap on a header: a larger claimed length is a corrupt file, not a reason to allocate it. */
const MAX_HEADER = 100 * 1024 * 1024;
const QUANTIZED = /^(I8|U8|I4|U4|F8_E4M3|F8_E5M2|F8_E8M0|F4|F6_E2M3|F6_E3M2)$/;

/** Every tensor of a folder: model.safetensors, or the shards of model.safetensors.index.json. */
export function readWeightIndex(dir: string): Map<string, TensorEntry> {
  const single = path.join(dir, 'model.safetensors');
  const indexPath = path.join(dir, 'model.safetensors.index.json');
  if (fs.existsSync(indexPath)) return readSharded(indexPath);
  if (fs.existsSync(single)) return readHeader(single);
  if (fs.existsSync(path.join(dir, 'pytorch_model.bin')) || fs.existsSync(path.join(dir, 'pytorch_model.bin.index.json'))) {
    throw new ConvertError(
      `${dir} holds pytorch_model.bin, which this converter no longer reads (a pickle can run code); save the model as safetensors ` +
        '(in Python: AutoModelForCausalLM.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)) and open it again',
    );
  }
  throw new ConvertError(`${dir} has no model.safetensors or model.safetensors.index.json`);
}

function readSharded(indexPath: string): Map<string, TensorEntry> {
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(fs.readFileSync(indexPath, 'utf8')) as { weight_map?: unknown }).weight_map;
  } catch (err) {
    throw new ConvertError(`${indexPath} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof weightMap !== 'object' || weightMap === null) throw new ConvertError(`${indexPath} lacks a "weight_map" object`);
  const dir = path.dirname(indexPath);
  const all = new Map<string, TensorEntry>();
  for (const shard of [...new Set(Object.values(weightMap as Record<string, string>))].sort()) {
    if (path.basename(String(shard)) !== String(shard)) throw new ConvertError(`${indexPath} names a shard outside its folder: ${String(shard)}`);
    const file = path.join(dir, String(shard));
    if (!fs.existsSync(file)) throw new ConvertError(`${file} is missing (named by ${path.basename(indexPath)})`);
    for (const [name, entry] of readHeader(file)) all.set(name, entry);
  }
  for (const [name, shard] of Object.entries(weightMap as Record<string, string>)) {
    if (!all.has(name)) throw new ConvertError(`${path.join(dir, shard)} lacks tensor ${name} (named by ${path.basename(indexPath)})`);
  }
  return all;
}

function readHeader(file: string): Map<string, TensorEntry> {
  const size = fs.statSync(file).size;
  const fd = fs.openSync(file, 'r');
  let header: unknown;
  let dataStart: number;
  try {
    const prefix = Buffer.alloc(8);
    if (fs.readSync(fd, prefix, 0, 8, 0) < 8) throw new ConvertError(`${file} is truncated: ${size} bytes, not even the 8-byte header length`);
    const n = Number(prefix.readBigUInt64LE(0));
    if (n > size - 8 || n > MAX_HEADER) throw new ConvertError(`${file} is truncated or not safetensors: a header of ${n} bytes in a file of ${size}`);
    const text = Buffer.alloc(n);
    if (fs.readSync(fd, text, 0, n, 8) < n) throw new ConvertError(`${file} is truncated: its header was cut short`);
    try {
      header = JSON.parse(text.toString('utf8'));
    } catch (err) {
      throw new ConvertError(`${file} has a corrupt header: ${(err as Error).message}`);
    }
    dataStart = 8 + n;
  } finally {
    fs.closeSync(fd);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new ConvertError(`${file} has a corrupt header: not a JSON object`);
  const entries = new Map<string, TensorEntry>();
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = (info ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string' || !Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) {
      throw new ConvertError(`${file}: header entry ${name} lacks dtype, shape or data_offsets`);
    }
    if (QUANTIZED.test(dtype)) {
      throw new ConvertError(`${file}: tensor ${name} is ${dtype}: quantized and FP8 weights are not supported; use the model's F32, F16 or BF16 release`);
    }
    if (!Object.hasOwn(FLOAT_BYTES, dtype)) {
      if (name.endsWith('weight') || name.endsWith('bias')) throw new ConvertError(`${file}: tensor ${name} has dtype ${dtype}; supported: F32, F16, BF16`);
      continue; // integer buffers (position ids and the like) carry no weights
    }
    const dims = shape.map(Number);
    const [begin, end] = offsets.map(Number);
    const count = dims.reduce((a, b) => a * b, 1);
    const bytes = FLOAT_BYTES[dtype as keyof typeof FLOAT_BYTES];
    if (!dims.every((d) => Number.isInteger(d) && d >= 0) || !Number.isInteger(begin) || !Number.isInteger(end) || end - begin !== count * bytes || begin < 0) {
      throw new ConvertError(`${file}: tensor ${name} of shape [${dims}] and dtype ${dtype} needs ${count * bytes} bytes, its offsets span ${end - begin}`);
    }
    if (dataStart + end > size) throw new ConvertError(`${file} is truncated: tensor ${name} ends at byte ${dataStart + end} of ${size}`);
    entries.set(name, { name, dtype: dtype as TensorEntry['dtype'], shape: dims, file, begin: dataStart + begin, end: dataStart + end });
  }
  if (entries.size === 0) throw new ConvertError(`${file} holds no float tensors`);
  return entries;
}

/** One tensor as float32, read from its file now. */
export function readTensor(entry: TensorEntry): Float32Array {
  const bytes = entry.end - entry.begin;
  const raw = Buffer.from(new ArrayBuffer(bytes)); // its own buffer at offset 0: typed views need alignment
  const fd = fs.openSync(entry.file, 'r');
  try {
    let done = 0;
    while (done < bytes) {
      const n = fs.readSync(fd, raw, done, Math.min(bytes - done, 1 << 30), entry.begin + done);
      if (n === 0) throw new ConvertError(`${entry.file} ended inside tensor ${entry.name}`);
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  const count = bytes / FLOAT_BYTES[entry.dtype];
  // Typed views read the host's byte order: little-endian, as safetensors stores, on every platform Node ships for.
  if (entry.dtype === 'F32') return new Float32Array(raw.buffer, 0, count);
  const half = new Uint16Array(raw.buffer, 0, count);
  const out = new Float32Array(count);
  if (entry.dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer); // bfloat16 is the top half of a float32
    for (let i = 0; i < count; i++) bits[i] = half[i] << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = halfToFloat(half[i]);
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
