declare module '*.css';
/** Vite: the URL of a file emitted into the build (the what-if explorer's onnxruntime-web .wasm/.mjs) */
declare module '*?url' { const url: string; export default url; }
