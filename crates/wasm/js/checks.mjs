// The checks both the Node and the Chromium test run against the ES module: each case throws
// on failure. `mod` is the initialised module, `vectors` the committed vectors
// (vectors/schooltas.json from the Rust API, vectors/sd-jwt-js.json from sd-jwt-js).

function equal(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(`${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }
}

function refusedWith(run, code) {
  try {
    run();
  } catch (error) {
    equal(error.name, 'SchooltasError', 'error name');
    equal(error.code, code, 'error code');
    if (!(error instanceof Error) || !error.message) throw new Error('a refusal is an Error with a message');
    return error;
  }
  throw new Error(`accepted, expected a refusal with code ${code}`);
}

export function cases(mod, { schooltas, sdJwtJs }) {
  const { verifyPresentation, HeldCredential, StatusList } = mod;
  const options = schooltas.verifyOptions;
  const list = [
    ['a presentation made by the Rust API verifies, its status checked', () => {
      const verified = verifyPresentation(schooltas.presentation, options);
      equal(verified.claims.group, '7B', 'group');
      equal(verified.claims.age_over_12, true, 'age_over_12');
      equal(verified.claims.birth_date, undefined, 'birth_date (not disclosed)');
      equal(verified.iss, options.trustedDids[0], 'iss');
      equal(verified.vct, 'https://schooltas.example/credentials/enrolment', 'vct');
      equal(verified.holderKey.kty, 'EC', 'holder key');
      equal(verified.status.checked && verified.status.valid, true, 'status');
    }],
    ['a presentation made by the module itself verifies', () => {
      const held = HeldCredential.parse(schooltas.issued);
      const presentation = held.present({ ...schooltas.presentOptions, claims: [['given_name']], holderKey: schooltas.holderKey });
      const verified = verifyPresentation(presentation, options);
      equal(verified.claims.given_name, 'Sanne', 'given_name');
      equal(verified.claims.group, undefined, 'group (not disclosed)');
    }],
    ['an issuer key given by the caller is used', () => {
      const verified = verifyPresentation(schooltas.presentation, {
        issuerKeys: [schooltas.issuerKey], audience: options.audience, nonce: options.nonce, now: options.now,
      });
      equal(verified.status.checked, false, 'status without statusLists');
    }],
    ['the wrong nonce is refused (NonceMismatch)', () => {
      refusedWith(() => verifyPresentation(schooltas.presentation, { ...options, nonce: 'n-other' }), 'NonceMismatch');
    }],
    ['the wrong audience is refused (AudienceMismatch)', () => {
      refusedWith(() => verifyPresentation(schooltas.presentation, { ...options, audience: 'https://other.example' }), 'AudienceMismatch');
    }],
    ['an untrusted issuer is refused (IssuerKey)', () => {
      refusedWith(() => verifyPresentation(schooltas.presentation, { ...options, trustedDids: [] , issuerKeys: [sdJwtJs.issuerKey] }), 'IssuerKey');
    }],
    ['missing trust is a refusal of the options (InvalidOption)', () => {
      refusedWith(() => verifyPresentation(schooltas.presentation, { audience: 'a', nonce: 'n', now: 1 }), 'InvalidOption');
    }],
    ...schooltas.refusals.map((refusal) => [`${refusal.name} is refused as by the Rust API (${refusal.code})`, () => {
      const error = refusedWith(() => verifyPresentation(refusal.presentation, options), refusal.code);
      if (error.message.includes('Sanne') || error.message.includes('7B')) throw new Error('a claim value in the message');
    }]),
    ['a presentation by sd-jwt-js verifies', () => {
      const verified = verifyPresentation(sdJwtJs.presentation, {
        issuerKeys: [sdJwtJs.issuerKey], audience: sdJwtJs.audience, nonce: sdJwtJs.nonce, now: sdJwtJs.now,
      });
      equal(verified.claims.group, '7B', 'group');
      equal(verified.claims.given_name, undefined, 'given_name (not disclosed)');
      equal(verified.iss, 'https://issuer.sd-jwt-js.example', 'iss');
    }],
    ['a presentation by sd-jwt-js with a changed disclosure is refused (UnreferencedDisclosure)', () => {
      const parts = sdJwtJs.presentation.split('~');
      const changed = JSON.parse(atob(parts[1].replace(/-/g, '+').replace(/_/g, '/')));
      changed[2] = '8C';
      parts[1] = btoa(JSON.stringify(changed)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      refusedWith(() => verifyPresentation(parts.join('~'), {
        issuerKeys: [sdJwtJs.issuerKey], audience: sdJwtJs.audience, nonce: sdJwtJs.nonce, now: sdJwtJs.now,
      }), 'UnreferencedDisclosure');
    }],
    ['a status list is read after its token verifies', () => {
      const [[uri, token]] = Object.entries(options.statusLists);
      const statusList = StatusList.verify(token, { issuerKey: schooltas.issuerKey, now: options.now });
      equal(statusList.subject, uri, 'subject');
      equal(statusList.status(3), 0, 'entry 3 (valid)');
      equal(statusList.status(5), 1, 'entry 5 (revoked)');
      refusedWith(() => StatusList.verify(token, { issuerKey: sdJwtJs.issuerKey, now: options.now }), 'StatusList.Did.InvalidSignature');
    }],
  ];
  return list;
}
