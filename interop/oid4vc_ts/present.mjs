// The second half of wallet.mjs: oid4vc-ts's OpenID4VP client (@openid4vc/openid4vp) answers
// the Schooltas verifier with the credential the school issued to it. It fetches the request
// object by reference (request_uri_method=post), verifies its signature with the key of the
// verifier's did:key (client_id prefix decentralized_identifier), builds a DCQL vp_token with
// the SD-JWT presentation made by the OpenWallet Foundation's sd-jwt-js (@sd-jwt/core: the
// requested disclosures and a key-binding JWT over the request's nonce and client_id), and
// posts it with direct_post.
import { createHash, createPublicKey, randomBytes, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';
import { Openid4vpClient } from '@openid4vc/openid4vp';
import { SDJwtInstance } from '@sd-jwt/core';

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

function base58btc(text) {
  let n = 0n;
  for (const c of text) {
    const digit = BASE58.indexOf(c);
    if (digit < 0) throw new Error('not base58btc');
    n = n * 58n + BigInt(digit);
  }
  const bytes = [];
  while (n > 0n) { bytes.unshift(Number(n % 256n)); n /= 256n; }
  for (const c of text) { if (c === '1') bytes.unshift(0); else break; }
  return Buffer.from(bytes);
}

// did:key of an Ed25519 key (multicodec 0xed 0x01): its public JWK.
function didKeyJwk(didUrl) {
  const id = didUrl.replace(/^did:key:/, '').split('#')[0];
  if (!id.startsWith('z6Mk')) throw new Error(`not an Ed25519 did:key: ${didUrl}`);
  const raw = base58btc(id.slice(1));
  if (raw[0] !== 0xed || raw[1] !== 0x01 || raw.length !== 34) throw new Error('not an Ed25519 multicodec key');
  return { kty: 'OKP', crv: 'Ed25519', x: b64url(raw.subarray(2)) };
}

export async function present({ school, sdJwt, privateKey, publicJwk }) {
  const callbacks = {
    hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
    fetch: (url, init) => fetch(url, init),
    verifyJwt: async (signer, { compact }) => {
      if (signer.method !== 'did') return { verified: false };
      const jwk = didKeyJwk(signer.didUrl);
      const [h, p, s] = compact.split('.');
      const verified = cryptoVerify(null, Buffer.from(`${h}.${p}`), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url'));
      return verified ? { verified: true, signerJwk: jwk } : { verified: false };
    },
    decryptJwe: async () => ({ decrypted: false }),
    encryptJwe: async () => { throw new Error('no JARM here'); },
  };
  const client = new Openid4vpClient({ callbacks });
  const parsed = client.parseOpenid4vpAuthorizationRequest({ authorizationRequest: school.openid4vp_uri });
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params });
  const request = resolved.authorizationRequestPayload;
  if (resolved.client.prefix !== 'decentralized_identifier') throw new Error(`client prefix ${resolved.client.prefix}`);

  // The SD-JWT presentation: the claims the DCQL query names, and a KB-JWT.
  const sdjwt = new SDJwtInstance({
    hasher: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
    kbSigner: (input) => b64url(cryptoSign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })),
    kbSignAlg: 'ES256',
    saltGenerator: () => b64url(randomBytes(16)),
  });
  const query = request.dcql_query.credentials[0];
  const frame = Object.fromEntries(query.claims.map((claim) => [claim.path[0], true]));
  // The verifier's consent rule also needs the one-time child link (`sub`): Schooltas' request
  // builder adds it to consent queries, so it is in the frame when asked for.
  const presentation = await sdjwt.present(sdJwt, frame, {
    kb: { payload: { iat: Math.floor(Date.now() / 1000), aud: request.client_id, nonce: request.nonce } },
  });
  const response = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: { vp_token: { [query.id]: [presentation] } },
  });
  const submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: response.authorizationResponsePayload,
  });
  const status = submitted.response.status;
  const body = await submitted.response.text();
  return { presented: true, status, body, disclosed: Object.keys(frame).sort() };
}
