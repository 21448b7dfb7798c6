// Just enough protobuf for the benchmark: write a MatMul-only ONNX model (the sgemm probe).

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

/** TensorProto of a float32 initializer. */
function initializer(name: string, dims: number[], data: Float32Array): number[] {
  const bytes = [...new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
  return [...dims.flatMap((d) => field(1, d)), ...field(2, 1), ...field(8, name), ...field(9, bytes)];
}

/** ONNX model computing C = A x W with W [k, n] a constant (an initializer, prepacked as a model's weights are). */
export function matMulWeightModel(m: number, k: number, n: number, w: Float32Array): Buffer {
  const node = [...field(1, 'A'), ...field(1, 'W'), ...field(2, 'C'), ...field(4, 'MatMul')];
  const graph = [
    ...field(1, node),
    ...field(2, 'sgemm-weights'),
    ...field(5, initializer('W', [k, n], w)),
    ...field(11, tensorInfo('A', [m, k])),
    ...field(12, tensorInfo('C', [m, n])),
  ];
  const opset = field(2, 17);
  return Buffer.from([...field(1, 8), ...field(2, 'attention-lens-bench'), ...field(7, graph), ...field(8, opset)]);
}
