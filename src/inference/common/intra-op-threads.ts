// How many threads ONNX Runtime may use inside one session (intra-op), the pure half.
//
// Most models score the same on any thread count: ORT splits their work by output element. Tree
// ensembles do not: ORT sums the trees' votes per thread and then adds the threads' sums, so the
// rounding depends on how many threads there were. Measured with scikit-learn's forest (5 classes,
// 365 rows): 1 and 2 threads differ on 431 of 1,825 probabilities, and on 9,666 of 40,960 for
// 8,192 rows. A model with a tree ensemble therefore runs on one thread everywhere, so that every
// workstation — 2 cores or 32, and the browser's single-threaded what-if — gives it the same
// scores, and the fleet's logs and drift statistics compare like with like. Trees are cheap per
// row; a job's pace is set by reading, validating and writing, not by them.
import type { ModelInfo } from '../../onnx/common/onnx.ts';

/** ai.onnx.ml operators whose result depends on the intra-op thread count. */
const THREAD_SENSITIVE_OPS = new Set(['TreeEnsembleClassifier', 'TreeEnsembleRegressor', 'TreeEnsemble']);

/** The graph's nodes whose result would change with the thread count (empty for most models). */
export function threadSensitiveNodes(graph: Pick<ModelInfo, 'nodes'>): string[] {
  return graph.nodes.filter((n) => n.domain === 'ai.onnx.ml' && THREAD_SENSITIVE_OPS.has(n.op)).map((n) => n.name || n.op);
}

/**
 * Intra-op threads for `workers` sessions of `graph` on a machine with `cores`: one core is left
 * to the calling thread (it parses and writes; measured on 2 cores, more ORT threads than cores
 * lose throughput) and the rest shared among the workers — except for a graph with a
 * thread-sensitive node, which always gets one thread (same scores on every machine).
 */
export function intraOpThreadsFor(graph: Pick<ModelInfo, 'nodes'> | undefined, workers: number, cores: number): number {
  if (graph && threadSensitiveNodes(graph).length > 0) return 1;
  return Math.max(1, Math.floor((cores - 1) / workers));
}
