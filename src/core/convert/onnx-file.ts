// Writes ONNX graphs with ONNX's own schema (the `onnx-proto` package: onnx.proto compiled for
// protobufjs). Weights go to one external data file per variant, so a model of any size converts
// and no graph file nears protobuf's 2 GB limit. This is the only module that imports onnx-proto.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';

export const OPSET = 17;
const IR_VERSION = 8;
/** Tensors start at 64 KiB boundaries (Windows' mapping granularity; a multiple of every page size) so that onnxruntime may map them rather than copy. */
const ALIGN = 65536;
/** fs.writeSync takes at most 2 GiB - 1 bytes a call; a tensor may be larger. */
const WRITE_SLICE = 1 << 30;

type Attr = { int: number } | { float: number } | { ints: number[] };
export const int = (i: number): Attr => ({ int: i });
export const float = (f: number): Attr => ({ float: f });
export const ints = (i: number[]): Attr => ({ ints: i });

/** The variant's weights file, appended to as graphs are built. */
export class WeightFile {
  private readonly fd: number;
  private closed = false;
  private offset = 0;
  private readonly named = new Map<string, { offset: number; length: number }>();
  bytes = 0;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'w');
  }

  /** Appends a float32 tensor; returns its offset. */
  append(data: Float32Array): number {
    const at = Math.ceil(this.offset / ALIGN) * ALIGN;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, Math.min(bytes.length - done, WRITE_SLICE), at + done);
    this.offset = at + bytes.length;
    this.bytes += bytes.length;
    return at;
  }

  /** The offset of the tensor stored under key, appending what load gives the first time. */
  shared(key: string, load: () => Float32Array): { offset: number; length: number } {
    let stored = this.named.get(key);
    if (!stored) {
      const data = load();
      stored = { offset: this.append(data), length: data.byteLength };
      this.named.set(key, stored);
    }
    return stored;
  }

  /** Closes the file once; later calls do nothing (a descriptor number may belong to another file by then). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

export type Dim = number | string;

/** One graph: named values, nodes in order, small constants inline and weights external. */
export class GraphFile {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private count = 0;

  constructor(
    private readonly name: string,
    private readonly weights: WeightFile,
  ) {}

  input(name: string, type: 'float' | 'int64', dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Names value as a graph output (an Identity when the value already has another name). */
  output(name: string, value: string, dims: Dim[], type: 'float' | 'int64' = 'float'): void {
    if (value !== name) this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `${name}_out` });
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A weight tensor, written to the external data file now. */
  weight(data: Float32Array, dims: number[]): string {
    return this.external(this.weights.append(data), data.byteLength, dims);
  }

  /** A weight that several graphs of the variant read (tied embeddings): stored once. */
  sharedWeight(key: string, load: () => Float32Array, dims: number[]): string {
    const { offset, length } = this.weights.shared(key, load);
    return this.external(offset, length, dims);
  }

  private external(offset: number, length: number, dims: number[]): string {
    const name = `w${this.count++}`;
    this.initializers.push({
      name,
      dims,
      dataType: onnx.TensorProto.DataType.FLOAT,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: path.basename(this.weights.file) },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(length) },
      ],
    });
    return name;
  }

  /** A small constant kept inside the graph. */
  constant(values: ArrayLike<number>, dims: number[], type: 'float' | 'int64' = 'float'): string {
    const name = `c${this.count++}`;
    this.initializers.push(
      type === 'float'
        ? { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(values) }
        : { name, dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: Array.from(values) },
    );
    return name;
  }

  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.opN(type, inputs, 1, attrs)[0];
  }

  opN(type: string, inputs: string[], outputs: number, attrs: Record<string, Attr> = {}): string[] {
    const out = Array.from({ length: outputs }, () => `v${this.count++}`);
    const attribute = Object.entries(attrs).map(([name, a]): onnx.IAttributeProto =>
      'int' in a
        ? { name, type: onnx.AttributeProto.AttributeType.INT, i: a.int }
        : 'float' in a
          ? { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: a.float }
          : { name, type: onnx.AttributeProto.AttributeType.INTS, ints: a.ints },
    );
    this.nodes.push({ opType: type, input: inputs, output: out, name: `${type}_${this.count}`, attribute });
    return out;
  }

  /** Writes the .onnx file (graph and inline constants; weights are already in the data file). */
  save(file: string, metadata: Record<string, string>): void {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'attention-lens',
      graph: { name: this.name, node: this.nodes, input: this.inputs, output: this.outputs, initializer: this.initializers },
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
    fs.writeFileSync(file, onnx.ModelProto.encode(model).finish());
  }
}

function valueInfo(name: string, type: 'float' | 'int64', dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: type === 'float' ? onnx.TensorProto.DataType.FLOAT : onnx.TensorProto.DataType.INT64,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}
