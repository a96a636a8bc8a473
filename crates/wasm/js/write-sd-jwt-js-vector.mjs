// Writes vectors/sd-jwt-js.json: a presentation made by sd-jwt-js, for the Chromium test (the
// browser runs no sd-jwt-js of its own). `node crates/wasm/js/write-sd-jwt-js-vector.mjs`
import { writeFileSync } from 'node:fs';
import { independentPresentation } from './sdjwtjs.mjs';

const vector = await independentPresentation({ now: 1_800_000_000, audience: 'https://photo.example', nonce: 'n-js-5521' });
const path = new URL('./vectors/sd-jwt-js.json', import.meta.url);
writeFileSync(path, JSON.stringify(vector, null, 2) + '\n');
console.log(`wrote ${path.pathname}`);
