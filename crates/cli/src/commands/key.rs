//! `schooltas key new|public`

use std::io::Write;

use schooltas_did::{Algorithm, Signer as _, SigningKey};
use serde_json::Value;

use crate::args::{Alg, KeyNewArgs, KeyPublicArgs};
use crate::error::{CliError, Result};
use crate::files::{self, Mode};

impl From<Alg> for Algorithm {
    fn from(alg: Alg) -> Self {
        match alg {
            Alg::EdDsa => Algorithm::EdDsa,
            Alg::Es256 => Algorithm::Es256,
        }
    }
}

pub(super) fn new(args: &KeyNewArgs, out: &mut dyn Write) -> Result<()> {
    let key =
        SigningKey::generate(args.alg.into()).map_err(|source| CliError::Did { action: "generating a key", source })?;
    let private = key.to_private_jwk();
    // One allocation of the final size, wiped on drop: a buffer that grows leaves copies behind.
    let mut text = zeroize::Zeroizing::new(Vec::with_capacity(private.len() + 1));
    text.extend_from_slice(private.as_bytes());
    text.push(b'\n');
    files::write_new(&args.out, &text, args.force, Mode::Private, "key file")?;
    print_public(&key, out)
}

pub(super) fn public(args: &KeyPublicArgs, out: &mut dyn Write) -> Result<()> {
    let key = files::read_signing_key(&args.key, "key file")?;
    print_public(&key, out)
}

/// Line 1: the public JWK as one line of JSON (ready for a `PUB.jwk` file); line 2: its did:key.
fn print_public(key: &SigningKey, out: &mut dyn Write) -> Result<()> {
    let (did, _) = super::did_key_of(key.verifying_key());
    writeln!(out, "{}", Value::Object(key.verifying_key().to_jwk()))?;
    writeln!(out, "{did}")?;
    Ok(())
}
