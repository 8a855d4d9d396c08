// The tiny model a provider must run correctly before it is trusted: a two-layer MLP
// (MatMul, Add, Relu, Softmax) on a fixed batch, and the tolerance its output must meet against
// CPU. Small enough that session creation is dominated by the provider's own start-up.
import { encodeModel } from '../../onnx/common/onnx.ts';

const IN = 8;
const HIDDEN = 16;
const OUT = 4;
const ROWS = 4;

/** Deterministic, well-spread values in [-1, 1] (no RNG state to share between threads). */
const wave = (n: number, seed: number): number[] => Array.from({ length: n }, (_, i) => Math.sin((i + 1) * seed) * Math.cos(i * 0.37 + seed));

export const PROBE_INPUT = 'x';
export const PROBE_OUTPUT = 'probabilities';
export const probeInputDims = [ROWS, IN];

export function probeModel(): Uint8Array {
  return encodeModel({
    name: 'outpost-provider-probe',
    // Static shapes: some providers (CoreML) take only static ones, and a probe that fell back
    // to CPU for that reason would wrongly reject the provider.
    inputs: [{ name: PROBE_INPUT, type: 'float', shape: [ROWS, IN] }],
    outputs: [{ name: PROBE_OUTPUT, type: 'float', shape: [ROWS, OUT] }],
    initializers: [
      { name: 'W1', type: 'float', dims: [IN, HIDDEN], data: wave(IN * HIDDEN, 1.3) },
      { name: 'B1', type: 'float', dims: [HIDDEN], data: wave(HIDDEN, 2.1) },
      { name: 'W2', type: 'float', dims: [HIDDEN, OUT], data: wave(HIDDEN * OUT, 0.7) },
      { name: 'B2', type: 'float', dims: [OUT], data: wave(OUT, 3.3) },
    ],
    nodes: [
      { op: 'MatMul', inputs: [PROBE_INPUT, 'W1'], outputs: ['h1'] },
      { op: 'Add', inputs: ['h1', 'B1'], outputs: ['a1'] },
      { op: 'Relu', inputs: ['a1'], outputs: ['r1'] },
      { op: 'MatMul', inputs: ['r1', 'W2'], outputs: ['h2'] },
      { op: 'Add', inputs: ['h2', 'B2'], outputs: ['logits'] },
      { op: 'Softmax', inputs: ['logits'], outputs: [PROBE_OUTPUT], attrs: { axis: -1 } },
    ],
  }, { producer: 'outpost-probe' });
}

export function probeInput(): Float32Array {
  return Float32Array.from(wave(ROWS * IN, 5.9), (v) => v * 2);
}

export interface Comparison {
  ok: boolean;
  /** Human-readable when not ok. */
  detail: string;
}

/**
 * GPU kernels may use TF32 / fused math, so exact equality is not expected; a provider that is
 * broken gives zeros, NaN or garbage, far outside this band.
 */
export function compareToReference(reference: Float32Array, actual: ArrayLike<number>, atol = 1e-3, rtol = 1e-2): Comparison {
  if (actual.length !== reference.length) return { ok: false, detail: `output has ${actual.length} values, CPU gives ${reference.length}` };
  let worst = -1;
  let worstDiff = 0;
  for (let i = 0; i < reference.length; i++) {
    const diff = Math.abs(actual[i] - reference[i]);
    // `!(diff <= …)` also catches NaN.
    if (!(diff <= atol + rtol * Math.abs(reference[i])) && (worst < 0 || !(diff <= worstDiff))) {
      worst = i;
      worstDiff = diff;
    }
  }
  if (worst < 0) return { ok: true, detail: '' };
  return { ok: false, detail: `results differ from CPU (value ${worst}: ${actual[worst]} vs ${reference[worst]})` };
}
