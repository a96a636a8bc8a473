// The ES module in Node (node:test): `node --test crates/wasm/js/node.test.mjs` after build.sh.
// The shared checks (checks.mjs), and a presentation sd-jwt-js makes in this run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import init, * as mod from '../pkg/schooltas_wasm.js';
import { cases } from './checks.mjs';
import { independentPresentation } from './sdjwtjs.mjs';

await init({ module_or_path: readFileSync(new URL('../pkg/schooltas_wasm_bg.wasm', import.meta.url)) });
const read = (name) => JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8'));
const vectors = { schooltas: read('schooltas.json'), sdJwtJs: read('sd-jwt-js.json') };

for (const [name, run] of cases(mod, vectors)) test(name, run);

test('a presentation sd-jwt-js makes in this run verifies, and with a bad signature is refused', async () => {
  const made = await independentPresentation({ now: 1_800_000_000, audience: 'https://photo.example', nonce: 'n-live' });
  const options = { issuerKeys: [made.issuerKey], audience: made.audience, nonce: made.nonce, now: made.now };
  assert.equal(mod.verifyPresentation(made.presentation, options).claims.group, '7B');
  const [jwt, ...rest] = made.presentation.split('~');
  const sig = jwt.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA';
  const broken = [jwt.slice(0, -4) + sig, ...rest].join('~');
  assert.throws(() => mod.verifyPresentation(broken, options), { name: 'SchooltasError', code: 'Did.InvalidSignature' });
});
