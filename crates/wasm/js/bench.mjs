// The verify time in Node through the WebAssembly module, against which
// examples/bench_verify.rs times the same verification natively (docs/benchmarks.md).
// `node crates/wasm/js/bench.mjs` after build.sh.
import { readFileSync } from 'node:fs';
import init, { verifyPresentation } from '../pkg/schooltas_wasm.js';

await init({ module_or_path: readFileSync(new URL('../pkg/schooltas_wasm_bg.wasm', import.meta.url)) });
const vectors = JSON.parse(readFileSync(new URL('./vectors/schooltas.json', import.meta.url), 'utf8'));
const rounds = 2000;
for (let i = 0; i < 100; i++) verifyPresentation(vectors.presentation, vectors.verifyOptions);
const start = process.hrtime.bigint();
for (let i = 0; i < rounds; i++) verifyPresentation(vectors.presentation, vectors.verifyOptions);
const perMicros = Number(process.hrtime.bigint() - start) / rounds / 1000;
console.log(`wasm verifyPresentation in Node ${process.version}: ${perMicros.toFixed(1)} µs per verification (${rounds} rounds)`);
