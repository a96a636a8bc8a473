//! `schooltas ca root|issuer|verifier`: the trust-list operator's X.509 certificate authority
//! for the EU profile (HAIP 1.0), on `schooltas-x509`. The CA key is a private JWK file
//! (`schooltas key new --alg ES256`, mode 0600); certificates are written as PEM.

use std::io::Write;

use base64::Engine as _;
use schooltas_x509::{CertificateAuthority, CertificateChain, Profile, Subject, Validity};

use crate::args::{CaIssueArgs, CaRootArgs};
use crate::error::{CliError, Result};
use crate::files::{self, Mode};

/// What `ca issue` certifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Leaf {
    /// A school's issuer key, for its `https` issuer identifier.
    Issuer,
    /// A verifier's request-signing key, for a DNS name.
    Verifier,
}

fn x509(action: &'static str) -> impl FnOnce(schooltas_x509::X509Error) -> CliError {
    move |error| CliError::School { action, source: Box::new(error) }
}

fn validity(days: u32) -> Result<Validity> {
    let now = files::now()?;
    // A minute back, so that a verifier whose clock is a little behind accepts it at once.
    Validity::days_from(now - 60, days).map_err(x509("setting the validity"))
}

/// `schooltas ca root`
pub(super) fn root(args: &CaRootArgs, out: &mut dyn Write) -> Result<()> {
    let key = files::read_signing_key(&args.ca_key, "CA key file")?;
    let subject = Subject::new(&args.organization, &args.name).map_err(x509("naming the CA"))?;
    // Path length 0: the root certifies schools and verifiers directly, no intermediates.
    let ca = CertificateAuthority::root(key, subject, validity(args.days)?, Some(0), Profile::Haip)
        .map_err(x509("making the root certificate"))?;
    files::write_new(&args.out, ca.certificate_pem().as_bytes(), false, Mode::Shared, "root certificate")?;
    writeln!(out, "root certificate {}", args.out.display())?;
    writeln!(
        out,
        "x509_trust_anchors entry {}",
        base64::engine::general_purpose::STANDARD.encode(ca.certificate_der())
    )?;
    Ok(())
}

/// `schooltas ca issuer|verifier`
pub(super) fn issue(args: &CaIssueArgs, leaf: Leaf, out: &mut dyn Write) -> Result<()> {
    let key = files::read_signing_key(&args.ca_key, "CA key file")?;
    let ca_chain = CertificateChain::from_pem(&files::read_text(&args.ca_certificate, "CA certificate")?)
        .map_err(|error| CliError::read("CA certificate", &args.ca_certificate, error))?;
    let (own, above) = ca_chain
        .certificates()
        .split_first()
        .ok_or_else(|| CliError::read("CA certificate", &args.ca_certificate, "no certificate in the file"))?;
    let ca = CertificateAuthority::from_certificate(key, own.clone(), above.to_vec(), Profile::Haip)
        .map_err(|error| CliError::read("CA certificate", &args.ca_certificate, error))?;
    let public = files::read_verifying_key(&args.public_key, "public key file")?;
    let issued = match leaf {
        Leaf::Issuer => {
            let host = args.subject.trim_start_matches("https://");
            let subject = Subject::new(&args.organization, host).map_err(x509("naming the school"))?;
            ca.issue_issuer_certificate(&public, &args.subject, &subject, validity(args.days)?)
                .map_err(|error| CliError::argument("--subject", error))?
        }
        Leaf::Verifier => {
            let subject = Subject::new(&args.organization, &args.subject).map_err(x509("naming the verifier"))?;
            ca.issue_verifier_certificate(&public, &args.subject, &subject, validity(args.days)?)
                .map_err(|error| CliError::argument("--subject", error))?
        }
    };
    files::write_new(&args.out, issued.chain().to_pem().as_bytes(), false, Mode::Shared, "certificate chain")?;
    writeln!(out, "certificate chain {}", args.out.display())?;
    if leaf == Leaf::Verifier {
        writeln!(out, "client_id x509_hash:{}", issued.chain().leaf_x509_hash())?;
    }
    Ok(())
}
