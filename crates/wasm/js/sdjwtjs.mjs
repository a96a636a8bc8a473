// An SD-JWT VC presentation made by an independent implementation, the OpenWallet Foundation's
// sd-jwt-js (@sd-jwt/core): an Ed25519 issuer key and an ES256 holder key from node:crypto, the
// issuance with two selectively disclosable claims, the presentation of one with a KB-JWT.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { SDJwtInstance } from '@sd-jwt/core';

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

export async function independentPresentation({ now, audience, nonce }) {
  const issuer = generateKeyPairSync('ed25519');
  const holder = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const issuerKey = { ...issuer.publicKey.export({ format: 'jwk' }), kid: 'sd-jwt-js-issuer' };
  const sdjwt = new SDJwtInstance({
    hasher: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
    hashAlg: 'sha-256',
    signer: (input) => b64url(sign(null, Buffer.from(input), issuer.privateKey)),
    signAlg: 'EdDSA',
    kbSigner: (input) => b64url(sign('sha256', Buffer.from(input), { key: holder.privateKey, dsaEncoding: 'ieee-p1363' })),
    kbSignAlg: 'ES256',
    saltGenerator: () => b64url(randomBytes(16)),
  });
  const issued = await sdjwt.issue(
    {
      iss: 'https://issuer.sd-jwt-js.example',
      vct: 'https://schooltas.example/credentials/enrolment',
      iat: now - 60,
      exp: now + 86_400,
      cnf: { jwk: holder.publicKey.export({ format: 'jwk' }) },
      given_name: 'Sanne',
      group: '7B',
    },
    { _sd: ['given_name', 'group'] },
    { header: { typ: 'dc+sd-jwt', kid: issuerKey.kid } },
  );
  const presentation = await sdjwt.present(issued, { group: true }, { kb: { payload: { iat: now, aud: audience, nonce } } });
  return { source: 'sd-jwt-js (@sd-jwt/core 0.15.0), js/write-sd-jwt-js-vector.mjs', presentation, issuerKey, audience, nonce, now };
}
