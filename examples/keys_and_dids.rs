//! A school creates its keys and DIDs, signs a statement, and a verifier checks it.
//!
//! Run with `cargo run --example keys_and_dids`. Every step prints one line; the example checks
//! its own outcomes and exits non-zero if any is wrong.

use std::process::ExitCode;

use schooltas::did::{
    Algorithm, DidUrl, Error, PublicKey, Resolver, Signer, SigningKey, VerificationRelationship, did_jwk, did_key,
    did_web, jws,
};

fn main() -> ExitCode {
    match run() {
        Ok(()) => {
            println!("\nAll steps behaved as expected.");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("\nFAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(ok: bool, what: &str) -> Result<(), Box<dyn std::error::Error>> {
    if ok { Ok(()) } else { Err(format!("unexpected outcome: {what}").into()) }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("1. The school generates an Ed25519 signing key (EdDSA, the default).");
    let school_key = SigningKey::generate(Algorithm::EdDsa)?;
    let school_public = PublicKey::Verifying(school_key.verifying_key().clone());
    println!("   public JWK: {}", serde_json::Value::Object(school_key.verifying_key().to_jwk()));
    println!("   JWK thumbprint (RFC 7638): {}", school_key.verifying_key().thumbprint());
    println!("   Debug never shows the secret: {school_key:?}");

    println!("\n2. Its did:key, and the DID document anyone can derive from it offline:");
    let did = did_key::did_for(&school_public);
    println!("   {did}");
    let document = did_key::document(&did, did_key::KeyFormat::Multikey)?;
    println!("{}", indent(&serde_json::to_string_pretty(&document.to_json())?));
    check(document.key_agreement.len() == 1, "an Ed25519 did:key lists its X25519 key-agreement key")?;

    println!("\n3. The same key as did:jwk, and a parent's P-256 key (ES256, as EU wallets use):");
    println!("   {}", did_jwk::did_for(&school_public));
    let parent_key = SigningKey::generate(Algorithm::Es256)?;
    let parent_did = did_key::did_for(&PublicKey::Verifying(parent_key.verifying_key().clone()));
    println!("   parent: {parent_did}");

    println!("\n4. In production a school publishes did:web; this is where its document lives:");
    for example in ["did:web:basisschool-de-linde.example", "did:web:scholen.example%3A8443:brin:12AB00"] {
        println!("   {example}\n     -> {}", did_web::url_for(&example.parse()?)?);
    }

    println!("\n5. The school signs a statement (a JWS) naming its key by DID URL.");
    let kid = format!("{did}#{}", did.method_specific_id());
    let header = jws::Header::new().with_typ("example+jwt").with_kid(kid.as_str());
    let token = jws::sign_compact(&header, br#"{"statement":"Sanne is enrolled in group 7"}"#, &school_key)?;
    println!("   {}…", &token[..60]);

    println!("\n6. A verifier resolves the kid to a key and checks the signature.");
    let parsed = jws::CompactJws::parse(&token)?;
    let kid = DidUrl::parse(parsed.header().kid().unwrap_or_default())?;
    let key = Resolver::offline().verifying_key(&kid, VerificationRelationship::AssertionMethod, parsed.algorithm())?;
    let verified = parsed.verify(&key)?;
    println!("   verified payload: {}", String::from_utf8_lossy(verified.payload()));

    println!("\n7. Forgeries are refused, each with its own reason:");
    let (signing_input, _) = token.rsplit_once('.').ok_or("token has a signature part")?;
    let unsigned = format!(
        "{}.{}.",
        schooltas::did::base64url::encode(r#"{"alg":"none"}"#),
        &signing_input[signing_input.find('.').map_or(0, |i| i + 1)..]
    );
    let refused = refusal(jws::CompactJws::parse(&unsigned))?;
    println!("   alg none          -> {refused}");
    check(matches!(refused, Error::AlgNone), "alg none refused")?;

    let tampered = token.replacen(".ey", ".eX", 1);
    let refused = refusal(jws::CompactJws::parse(&tampered).and_then(|p| p.verify(&key)))?;
    println!("   tampered payload  -> {refused}");
    check(matches!(refused, Error::InvalidSignature | Error::InvalidBase64 { .. }), "tampered payload refused")?;

    let wrong_alg =
        refusal(Resolver::offline().verifying_key(&kid, VerificationRelationship::AssertionMethod, Algorithm::Es256))?;
    println!("   ES256 for an Ed25519 key -> {wrong_alg}");
    check(matches!(wrong_alg, Error::VerificationMethodNotFound { .. }), "algorithm pinned to key")?;

    let parent_signed = jws::sign_compact(&header, b"{}", &parent_key)?;
    let refused = refusal(jws::CompactJws::parse(&parent_signed).and_then(|p| p.verify(&key)))?;
    println!("   signed by another key   -> {refused}");
    check(matches!(refused, Error::AlgorithmMismatch { .. }), "another key's signature refused")?;
    Ok(())
}

/// The error of an operation that must fail; its success is this example's failure.
fn refusal<T>(result: Result<T, Error>) -> Result<Error, Box<dyn std::error::Error>> {
    match result {
        Ok(_) => Err("a forgery was accepted".into()),
        Err(e) => Ok(e),
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("   {l}")).collect::<Vec<_>>().join("\n")
}
