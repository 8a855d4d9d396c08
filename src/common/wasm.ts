// WebAssembly's JS API as far as the project's kernels use it (the project's TypeScript libs have no
// DOM types), and compiling a kernel committed as base64. Hosts that forbid compiling WebAssembly
// (a page whose CSP lacks 'wasm-unsafe-eval') get undefined, and each caller keeps its JS loop.

export interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
export interface WasmInstance { exports: Record<string, unknown> }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

export const WASM_PAGE = 65536;

/** An instance of the module in `base64`, or undefined where WebAssembly is unavailable or refused. */
export function instantiateWasm(base64: string): WasmInstance | undefined {
  if (wasm === undefined) return undefined;
  try {
    const bin = atob(base64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return new wasm.Instance(new wasm.Module(bytes), {});
  } catch {
    return undefined;
  }
}
