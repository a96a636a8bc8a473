// An independent wallet against a Schooltas school: oid4vc-ts (OpenWallet Foundation) redeems
// the school's pre-authorized offer with its PIN (metadata, token, nonce, a JWT key proof,
// the credential); the reference DCQL implementation (`dcql`) parses the verifier's query
// from its request object and matches the issued credential's claims against it; and
// present.mjs answers the verifier with that credential (OpenID4VP, sd-jwt-js).
//
// Input: the JSON line of `cargo run -p schooltas-server --example interop_school` on stdin.
// Output: one JSON line with what it did; exit status 1 on any failure.
import { createHash, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Openid4vciClient } from '@openid4vc/openid4vci';
import { clientAuthenticationAnonymous } from '@openid4vc/oauth2';
import { DcqlQuery } from 'dcql';
import { present } from './present.mjs';

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');
const school = JSON.parse(readFileSync(0, 'utf8').split('\n')[0]);

// The wallet's key: ES256, as most EU wallets use.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicJwk = publicKey.export({ format: 'jwk' });

const callbacks = {
  hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
  generateRandom: (length) => randomBytes(length),
  signJwt: async (signer, { header, payload }) => {
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const signature = cryptoSign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return { jwt: `${input}.${b64url(signature)}`, signerJwk: publicJwk };
  },
  fetch: (url, init) => fetch(url, init),
  // The pre-authorized code flow without a client (OpenID4VCI 1.0 §6.1: client_id optional).
  clientAuthentication: clientAuthenticationAnonymous(),
};

const client = new Openid4vciClient({ callbacks });
const offer = await client.resolveCredentialOffer(school.credential_offer_uri);
const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
const configurationId = offer.credential_configuration_ids[0];
const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
  credentialOffer: offer,
  issuerMetadata,
  txCode: school.tx_code,
});
const { c_nonce } = await client.requestNonce({ issuerMetadata });
const { jwt: proof } = await client.createCredentialRequestJwtProof({
  issuerMetadata,
  credentialConfigurationId: configurationId,
  signer: { method: 'jwk', alg: 'ES256', publicJwk },
  nonce: c_nonce,
  issuedAt: new Date(),
});
const credentials = await client.retrieveCredentials({
  issuerMetadata,
  accessToken: accessTokenResponse.access_token,
  credentialConfigurationId: configurationId,
  proofs: { jwt: [proof] },
});
if (!credentials.response.ok) {
  throw new Error(`the credential endpoint refused: ${JSON.stringify(credentials.credentialResponse)}`);
}
const sdJwt = credentials.credentialResponse.credentials[0].credential;

// The SD-JWT VC's claims, as a wallet sees them: the payload with every disclosure applied.
const [jwt, ...disclosures] = sdJwt.split('~').filter((part) => part.length > 0);
const [headerPart, payloadPart] = jwt.split('.');
const header = JSON.parse(Buffer.from(headerPart, 'base64url'));
const payload = JSON.parse(Buffer.from(payloadPart, 'base64url'));
const claims = { ...payload };
for (const disclosure of disclosures) {
  const decoded = JSON.parse(Buffer.from(disclosure, 'base64url'));
  if (decoded.length === 3) claims[decoded[1]] = decoded[2];
}
delete claims._sd;
delete claims._sd_alg;
if (header.typ !== 'dc+sd-jwt') throw new Error(`typ is ${header.typ}`);
if (JSON.stringify(payload.cnf.jwk.x) !== JSON.stringify(publicJwk.x)) throw new Error('cnf is not the proof key');

// The verifier's request object (fetched by reference, not verified here: its DCQL query is
// what the reference implementation checks).
const requestUri = new URL(school.openid4vp_uri.replace('openid4vp://', 'https://placeholder/')).searchParams.get('request_uri');
const requestObject = await (await fetch(requestUri)).text();
const request = JSON.parse(Buffer.from(requestObject.split('.')[1], 'base64url'));
const query = DcqlQuery.parse(request.dcql_query);
DcqlQuery.validate(query);
const offered = { credential_format: 'dc+sd-jwt', vct: claims.vct, claims, cryptographic_holder_binding: true };
const result = DcqlQuery.query(query, [offered]);
if (!result.can_be_satisfied) throw new Error(`dcql: the credential does not satisfy the query: ${JSON.stringify(result)}`);

const presented = await present({ school, sdJwt, privateKey, publicJwk });

console.log(JSON.stringify({
  presentation: presented,
  issued: true,
  vct: claims.vct,
  iss: payload.iss,
  disclosed_claims: Object.keys(claims).filter((name) => !['iss', 'iat', 'exp', 'vct', 'cnf', 'status', 'nbf'].includes(name)).sort(),
  dcql_query_valid: true,
  dcql_satisfied: result.can_be_satisfied,
  request_uri_method: new URL(school.openid4vp_uri.replace('openid4vp://', 'https://placeholder/')).searchParams.get('request_uri_method'),
}));
