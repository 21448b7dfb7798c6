// Just enough protobuf for the benchmark: write a MatMul-only ONNX model (the sgemm probe) and
// read the dims of a model's initializers (to count the model's matrix FLOPs).

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function field(num: number, value: number | string | number[]): number[] {
  if (typeof value === 'number') return [...varint(num << 3), ...varint(value)];
  const bytes = typeof value === 'string' ? [...Buffer.from(value, 'utf8')] : value;
  return [...varint((num << 3) | 2), ...varint(bytes.length), ...bytes];
}

/** ValueInfoProto of a float32 tensor with a fixed shape. */
function tensorInfo(name: string, dims: number[]): number[] {
  const shape = dims.flatMap((d) => field(1, field(1, d)));
  const tensorType = [...field(1, 1), ...field(2, shape)]; // elem_type 1 = float
  return [...field(1, name), ...field(2, field(1, tensorType))];
}

/** ONNX model computing C = A x B, A [m, k], B [k, n]. */
export function matMulModel(m: number, k: number, n: number): Buffer {
  const node = [...field(1, 'A'), ...field(1, 'B'), ...field(2, 'C'), ...field(4, 'MatMul')];
  const graph = [...field(1, node), ...field(2, 'sgemm'), ...field(11, tensorInfo('A', [m, k])), ...field(11, tensorInfo('B', [k, n])), ...field(12, tensorInfo('C', [m, n]))];
  const opset = field(2, 17);
  return Buffer.from([...field(1, 8), ...field(2, 'attention-lens-bench'), ...field(7, graph), ...field(8, opset)]);
}

interface Field {
  num: number;
  wire: number;
  /** The varint's value, or a length-delimited field's length. */
  value: number;
  start: number;
  end: number;
}

function readVarint(buf: Buffer, at: number): [number, number] {
  let v = 0;
  let scale = 1;
  for (;;) {
    const b = buf[at++];
    v += (b & 0x7f) * scale;
    if (b < 0x80) return [v, at];
    scale *= 0x80;
  }
}

function* fields(buf: Buffer, start: number, end: number): Generator<Field> {
  let at = start;
  while (at < end) {
    const [key, next] = readVarint(buf, at);
    at = next;
    const num = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0 || wire === 2) {
      const [value, after] = readVarint(buf, at);
      at = after;
      if (wire === 0) yield { num, wire, value, start: at, end: at };
      else {
        yield { num, wire, value, start: at, end: at + value };
        at += value;
      }
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`onnx-proto: unsupported wire type ${wire}`);
  }
}

/** Dims of every initializer in an ONNX model file (ModelProto.graph.initializer[].dims). */
export function initializerDims(buf: Buffer): number[][] {
  const out: number[][] = [];
  for (const g of fields(buf, 0, buf.length)) {
    if (g.num !== 7 || g.wire !== 2) continue;
    for (const init of fields(buf, g.start, g.end)) {
      if (init.num !== 5 || init.wire !== 2) continue;
      const dims: number[] = [];
      for (const f of fields(buf, init.start, init.end)) {
        if (f.num !== 1) continue;
        if (f.wire === 0) dims.push(f.value);
        // Packed: a run of varints.
        else for (let at = f.start; at < f.end; ) [dims[dims.length], at] = readVarint(buf, at);
      }
      out.push(dims);
    }
  }
  return out;
}
