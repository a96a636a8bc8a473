//! HTTPS in-process: a rustls server configuration from PEM files (the certificate chain a
//! CA issued for the school's host, and its private key).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// The TLS side of an HTTPS service: TLS 1.3 and 1.2 with rustls' safe defaults on ring, one
/// certificate chain, no client certificates, ALPN `http/1.1`.
#[derive(Clone)]
pub struct TlsConfig {
    pub(crate) server: Arc<rustls::ServerConfig>,
}

impl fmt::Debug for TlsConfig {
    // The configuration holds the private key: show nothing of it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig").finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// Reads the certificate chain (PEM, leaf first) and the private key (PEM: PKCS#8, SEC1
    /// or PKCS#1) from files.
    pub fn from_pem_files(certificate_chain: &Path, private_key: &Path) -> Result<Self> {
        let chain = CertificateDer::pem_file_iter(certificate_chain)
            .and_then(|certificates| certificates.collect::<std::result::Result<Vec<_>, _>>())
            .map_err(|error| Error::TlsFile { path: certificate_chain.to_owned(), reason: error.to_string() })?;
        if chain.is_empty() {
            return Err(Error::TlsFile { path: certificate_chain.to_owned(), reason: "no CERTIFICATE in it".into() });
        }
        // The key's own bytes never appear in an error: the PEM reader reports only what kind
        // of section it missed.
        let key = PrivateKeyDer::from_pem_file(private_key)
            .map_err(|error| Error::TlsFile { path: private_key.to_owned(), reason: error.to_string() })?;
        Self::from_der(chain, key)
    }

    /// A configuration from a DER certificate chain (leaf first) and its private key.
    pub fn from_der(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
            .map_err(|error| Error::Tls { reason: error.to_string() })?;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConfig { server: Arc::new(server) })
    }

    /// A configuration built with rustls directly (other key stores, client certificates…).
    pub fn from_rustls(server: Arc<rustls::ServerConfig>) -> Self {
        TlsConfig { server }
    }
}
