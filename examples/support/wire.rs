//! The photo-consent demo's network: the school's issuer and verifier services
//! (`schooltas-server`) over TLS on 127.0.0.1, their staff endpoints on loopback HTTP, and the
//! wallets' guarded HTTPS client. Every message between the parties crosses a real socket.
//!
//! Two profiles: the Schooltas one (DIDs, EdDSA) and the EU one (HAIP 1.0: the trust-list
//! operator is the certificate authority of the school's issuer and the desk's request-signing
//! certificates, an `https` issuer identifier, ES256 keys everywhere, DPoP-bound access tokens,
//! encrypted responses).
//!
//! The TLS certificate is the test CA's `localhost` certificate from
//! `crates/server/tests/tls/` (a throwaway demo key, never for production: see
//! docs/guide-schools.md for real certificates or a reverse proxy). The wallets trust only that
//! CA, and are allowed to reach this machine's addresses (`dangerous_allow_private_addresses`),
//! which a wallet on a phone never is.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use schooltas::did::did_web::HttpsFetcher;
use schooltas::did::net::GuardedClient;
use schooltas::did::{Algorithm, Did, Resolver, Signer as _, SigningKey, VerifyingKey};
use schooltas::issuer::store::SqliteStore;
use schooltas::issuer::{
    Brin, DpopRequirement, Issuer, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy,
    WalletAttestationRequirement,
};
use schooltas::school::catalog::Catalog;
use schooltas::school::trust_list::VerifierRegistration;
use schooltas::school::trust_list::{AccreditedIssuer, TrustList, UnverifiedTrustList, VerifiedTrustList};
use schooltas::status_list::{StatusListCache, StatusListFetcher as _, StatusListUri};
use schooltas::verifier::HttpsStatusListFetcher;
use schooltas::wallet::Wallet;
use schooltas::wallet::issuer_http::HttpsIssuerConnection;
use schooltas::wallet::receive::{Receiver, trusted_issuer_key};
use schooltas::wallet::wallet_attestation::{SoftwareWalletAttestor, WalletAttestor};
use schooltas::x509::{CertificateAuthority, CertificateChain, IssuerEku, Subject, Validity};
use schooltas_server::verifier::VerifierService;
use schooltas_server::{AdminToken, IssuerService, ServiceConfig, TlsConfig};
use serde_json::{Map, Value};

use super::support::{NOW, Result, did_of, kid_of};

/// The staff's token (the administration's and the newsletter editor's): in a real school a
/// random value from the configuration.
pub(crate) const STAFF_TOKEN: &str = "demo-staff-token-0123456789abcdef0123456789";

fn tls_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/server/tests/tls").join(name)
}

/// The wallets' (and the verifier's) HTTPS client: trusts only the demo CA, may reach
/// loopback.
pub(crate) fn client() -> Result<GuardedClient> {
    Ok(GuardedClient::new("schooltas-demo")
        .with_trust_anchors_pem(&std::fs::read(tls_file("ca.pem"))?)?
        .dangerous_allow_private_addresses())
}

/// DID resolution over the network: did:web documents fetched from the school's service.
pub(crate) fn resolver() -> Result<Resolver> {
    Ok(Resolver::with_web_fetcher(HttpsFetcher::new().with_client(client()?)))
}

/// Status lists fetched from the school's service.
pub(crate) fn status_cache() -> Result<StatusListCache> {
    let fetcher = HttpsStatusListFetcher::new().with_client(client()?);
    Ok(StatusListCache::new(move |uri: &StatusListUri| fetcher.fetch(uri)))
}

/// A bound listener and the URL its TLS name answers on.
pub(crate) struct Port {
    listener: std::net::TcpListener,
    pub(crate) address: SocketAddr,
}

impl Port {
    pub(crate) fn bind() -> Result<Port> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        Ok(Port { listener, address })
    }

    /// `https://localhost:<port>`: the name on the demo certificate.
    pub(crate) fn https_origin(&self) -> String {
        format!("https://localhost:{}", self.address.port())
    }
}

/// The tokio runtime every service runs on; dropping it stops them.
pub(crate) struct Servers {
    runtime: tokio::runtime::Runtime,
}

impl Servers {
    pub(crate) fn new() -> Result<Servers> {
        Ok(Servers { runtime: tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()? })
    }

    fn listener(&self, port: Port) -> Result<tokio::net::TcpListener> {
        let _entered = self.runtime.enter();
        Ok(tokio::net::TcpListener::from_std(port.listener)?)
    }

    /// Serves the school's OpenID4VCI endpoints over TLS on `port`, its administration on
    /// `admin` (loopback HTTP).
    pub(crate) fn issuer(&self, service: &IssuerService<SqliteStore>, port: Port, admin: Port) -> Result<()> {
        let tls = TlsConfig::from_pem_files(&tls_file("localhost-chain.pem"), &tls_file("localhost.key"))?;
        let (public, admin) = (self.listener(port)?, self.listener(admin)?);
        let (serving, staff) = (service.clone(), service.clone());
        self.runtime.spawn(async move { serving.serve_tls_until(public, tls, std::future::pending()).await });
        let token = AdminToken::new(STAFF_TOKEN)?;
        self.runtime.spawn(async move { staff.serve_admin_until(admin, token, std::future::pending()).await });
        Ok(())
    }

    /// Serves the verifier's wallet endpoints over TLS on `port`, its front end's and staff's
    /// endpoints on `admin` (loopback HTTP).
    pub(crate) fn verifier(&self, service: &VerifierService, port: Port, admin: Port) -> Result<()> {
        let tls = TlsConfig::from_pem_files(&tls_file("localhost-chain.pem"), &tls_file("localhost.key"))?;
        let (public, admin) = (self.listener(port)?, self.listener(admin)?);
        let (serving, staff) = (service.clone(), service.clone());
        self.runtime.spawn(async move { serving.serve_tls_until(public, tls, std::future::pending()).await });
        let token = AdminToken::new(STAFF_TOKEN)?;
        self.runtime.spawn(async move { staff.serve_admin_until(admin, token, std::future::pending()).await });
        Ok(())
    }
}

impl Servers {
    /// Serves the guardian hand-over relay over TLS on `port`.
    pub(crate) fn relay(&self, relay: &schooltas_server::relay::GuardianRelay, port: Port) -> Result<()> {
        let tls = TlsConfig::from_pem_files(&tls_file("localhost-chain.pem"), &tls_file("localhost.key"))?;
        let listener = self.listener(port)?;
        let serving = relay.clone();
        self.runtime.spawn(async move { serving.serve_tls_until(listener, tls, std::future::pending()).await });
        Ok(())
    }
}

/// The school's pupil administration: what the credential endpoint issues about a pupil.
#[derive(Clone, Default)]
pub(crate) struct Administration(Arc<Mutex<Records>>);

/// (subject reference, configuration id) → claims.
type Records = HashMap<(String, String), Map<String, Value>>;

impl Administration {
    pub(crate) fn register(&self, subject: &str, config_id: &str, claims: Value) -> Result<()> {
        let claims = claims.as_object().cloned().ok_or("a record is a JSON object")?;
        self.0.lock().map_err(|_| "administration lock poisoned")?.insert((subject.into(), config_id.into()), claims);
        Ok(())
    }

    pub(crate) fn claims(&self, subject: &str, config_id: &str) -> schooltas::issuer::Result<Map<String, Value>> {
        self.0
            .lock()
            .ok()
            .and_then(|records| records.get(&(subject.to_owned(), config_id.to_owned())).cloned())
            .ok_or(schooltas::issuer::Error::UnknownCredential { id: subject.to_owned() })
    }
}

/// How the parties name and trust each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Profile {
    /// DIDs (did:web for the school, did:key for the desk), EdDSA, Bearer tokens, plaintext
    /// `direct_post` over TLS.
    Schooltas,
    /// HAIP 1.0: X.509 certificates from the trust-list operator's CA, the school named by its
    /// `https` identifier, ES256, DPoP, `direct_post.jwt` and `request_uri_method=post`.
    Eu,
}

/// The trust-list operator's certificate authority (the EU profile): its root certificate is
/// the trust list's X.509 trust anchor; it certifies the school's issuer key and the desk's
/// request-signing key.
pub(crate) struct OperatorCa {
    ca: CertificateAuthority<SigningKey>,
}

impl OperatorCa {
    pub(crate) fn new() -> Result<OperatorCa> {
        let ca = CertificateAuthority::root(
            SigningKey::generate(Algorithm::Es256)?,
            Subject::new("Stichting Vertrouwenslijst Onderwijs", "Vertrouwenslijst Onderwijs Root CA")?,
            Validity::new(NOW - 86_400, NOW + 10 * 365 * 86_400)?,
            Some(0),
            schooltas::x509::Profile::Haip,
        )?;
        Ok(OperatorCa { ca })
    }

    /// The root certificate (DER), for the trust list.
    pub(crate) fn anchor(&self) -> &[u8] {
        self.ca.certificate_der()
    }

    /// A certificate for a school's issuer key, for its `https` issuer identifier, with the
    /// issuer EKU the Dutch government wallet's verifier looks for.
    pub(crate) fn school_chain(&self, key: &VerifyingKey, issuer_identifier: &str, name: &str) -> Result<Vec<Vec<u8>>> {
        let issued = self.ca.issue_issuer_certificate_with_eku(
            key,
            issuer_identifier,
            &Self::school_subject(issuer_identifier, name)?,
            Validity::new(NOW - 3600, NOW + 365 * 86_400)?,
            IssuerEku::MdocDocumentSigner,
        )?;
        Ok(issued.into_chain().certificates().to_vec())
    }

    /// A certificate for a school's separate status-list key (EKU id-kp-oauthStatusSigning),
    /// with the same subject as its issuer certificate.
    pub(crate) fn status_chain(&self, key: &VerifyingKey, issuer_identifier: &str, name: &str) -> Result<Vec<Vec<u8>>> {
        let issued = self.ca.issue_status_list_certificate(
            key,
            issuer_identifier,
            &Self::school_subject(issuer_identifier, name)?,
            Validity::new(NOW - 3600, NOW + 365 * 86_400)?,
        )?;
        Ok(issued.into_chain().certificates().to_vec())
    }

    fn school_subject(issuer_identifier: &str, name: &str) -> Result<Subject> {
        Ok(Subject::new(name, issuer_identifier.trim_start_matches("https://"))?)
    }

    /// A certificate for a verifier's request-signing key, for the DNS name its response URI
    /// is on.
    pub(crate) fn verifier_chain(&self, key: &VerifyingKey, dns_name: &str, name: &str) -> Result<CertificateChain> {
        let issued = self.ca.issue_verifier_certificate(
            key,
            dns_name,
            &Subject::new(name, dns_name)?,
            Validity::new(NOW - 3600, NOW + 365 * 86_400)?,
        )?;
        Ok(issued.into_chain())
    }
}

/// The wallet app's provider (the EU profile): its own CA, whose root the school trusts for
/// wallet attestations (OAuth 2.0 Attestation-Based Client Authentication, HAIP 1.0 §4.4.1),
/// and the key it signs attestations with. A real provider signs them in its backend after
/// checking the phone's app attestation; here each wallet carries a software attestor.
pub(crate) struct WalletProvider {
    ca: CertificateAuthority<SigningKey>,
    key: SigningKey,
    chain: Vec<Vec<u8>>,
}

impl WalletProvider {
    /// The wallet app's `client_id`, the same for every installation (HAIP: no per-instance
    /// identifier).
    pub(crate) const CLIENT_ID: &'static str = "https://wallet.schooltas.example";

    pub(crate) fn new() -> Result<WalletProvider> {
        let ca = CertificateAuthority::root(
            SigningKey::generate(Algorithm::Es256)?,
            Subject::new("Schooltas Wallet", "Schooltas Wallet Provider Root")?,
            Validity::new(NOW - 86_400, NOW + 10 * 365 * 86_400)?,
            Some(0),
            schooltas::x509::Profile::Haip,
        )?;
        let key = SigningKey::generate(Algorithm::Es256)?;
        let issued = ca.issue_wallet_provider_certificate(
            key.verifying_key(),
            Self::CLIENT_ID,
            &Subject::new("Schooltas Wallet", "wallet.schooltas.example")?,
            Validity::new(NOW - 3600, NOW + 365 * 86_400)?,
        )?;
        Ok(WalletProvider { chain: issued.into_chain().certificates().to_vec(), ca, key })
    }

    /// What the school trusts wallet attestations by.
    pub(crate) fn requirement(&self) -> Result<WalletAttestationRequirement> {
        let anchors = schooltas::x509::TrustAnchors::from_der(vec![self.ca.certificate_der().to_vec()])?;
        Ok(WalletAttestationRequirement::new(anchors).allow_clients([Self::CLIENT_ID]))
    }

    /// One wallet installation's attestor.
    pub(crate) fn attestor(&self) -> Result<SoftwareWalletAttestor> {
        let key = SigningKey::from_jwk_json(self.key.to_private_jwk().as_str())?;
        Ok(SoftwareWalletAttestor::new(key, self.chain.clone(), Self::CLIENT_ID, Self::CLIENT_ID)
            .with_wallet_name("Schooltas"))
    }
}

/// The school at `origin` (`https://localhost:<port>`), its DID the did:web of that host, its
/// database a file in `folder`. In the EU profile it names itself by `origin` (its `https`
/// identifier), signs with an ES256 key that `ca` certified, and binds access tokens to the
/// wallet's DPoP key.
pub(crate) fn school(
    name: &str,
    brin: &str,
    origin: &str,
    folder: &Path,
    ca: Option<&OperatorCa>,
    wallets: Option<&WalletProvider>,
) -> Result<Issuer<SqliteStore>> {
    let host = origin.trim_start_matches("https://").replace(':', "%3A");
    let keys = match ca {
        None => SchoolKeys::new("key-1", SigningKey::from_ed25519_seed(&[1; 32])),
        Some(ca) => {
            let key = SigningKey::generate(Algorithm::Es256)?;
            let chain = ca.school_chain(key.verifying_key(), origin, name)?;
            // Status lists are signed by a key of their own, certified for that alone.
            let status_key = SigningKey::generate(Algorithm::Es256)?;
            let status_chain = ca.status_chain(status_key.verifying_key(), origin, name)?;
            SchoolKeys::new("key-1", key).with_certificate_chain("key-1", chain)?.with_status_list_key(
                "status-1",
                status_key,
                status_chain,
            )?
        }
    };
    let mut profile = SchoolProfile::new(
        name,
        SchoolLocation::new(Brin::new(brin)?, 0)?,
        Did::parse(&format!("did:web:{host}"))?,
        origin,
        keys,
    )?;
    if ca.is_some() {
        profile = profile.with_https_identity()?;
    }
    let store = SqliteStore::open(folder.join("issuer.sqlite"))?;
    let issuer = Issuer::new(profile, Catalog::standard(), store, StatusPolicy::new(format!("{origin}/status")));
    let issuer = if ca.is_some() { issuer.with_dpop(DpopRequirement::haip()) } else { issuer };
    Ok(match wallets {
        Some(provider) => issuer.with_wallet_attestation(provider.requirement()?),
        None => issuer,
    })
}

/// The school's issuer service on the demo clock.
pub(crate) fn issuer_service(
    issuer: Issuer<SqliteStore>,
    administration: &Administration,
) -> Result<IssuerService<SqliteStore>> {
    let records = administration.clone();
    let claims = move |subject: &str, config_id: &str| records.claims(subject, config_id);
    Ok(IssuerService::with_clock(issuer, claims, ServiceConfig::default(), || NOW)?)
}

/// The trust-list operator's list accrediting `school` (under its DID, and in the EU profile
/// under its `https` identifier with the operator's root certificate as X.509 trust anchor)
/// and registering `verifiers`.
pub(crate) fn trust_list(
    school: &Did,
    name: &str,
    brin: &str,
    verifiers: Vec<VerifierRegistration>,
    eu: Option<(&str, &OperatorCa)>,
) -> Result<VerifiedTrustList> {
    let operator = SigningKey::from_ed25519_seed(&[90; 32]);
    let mut accredited = AccreditedIssuer::new(school.clone(), name).with_brin(brin);
    if let Some((issuer_identifier, _)) = eu {
        accredited = accredited.with_issuer_uri(issuer_identifier);
    }
    for credential_type in Catalog::standard().iter() {
        accredited = accredited.accredited_for(credential_type.vct().as_str());
    }
    let mut list = TrustList::new(did_of(&operator), NOW - 86_400, NOW + 365 * 86_400).with_issuer(accredited);
    if let Some((_, ca)) = eu {
        list = list.with_x509_trust_anchor(ca.anchor());
    }
    for registration in verifiers {
        list = list.with_verifier(registration);
    }
    let jwt = list.sign(&operator, &kid_of(&operator)?)?;
    Ok(UnverifiedTrustList::parse(&jwt)?.verify_with_resolver(&Resolver::offline(), &did_of(&operator), NOW, 60)?)
}

/// Redeems `offer_uri` with `pin` into `wallet` over HTTPS only: metadata, token (DPoP-bound
/// when the school asks), nonce, a batch of 3 copies, each checked (the issuer listed in the
/// trust list, its key from its did:web document or its `x5c` chain to the list's anchors, the
/// status list) and stored.
pub(crate) fn receive(
    wallet: &Wallet,
    trust_list: &VerifiedTrustList,
    offer_uri: &str,
    pin: Option<&str>,
    attestor: Option<&dyn WalletAttestor>,
) -> Result<usize> {
    let connection = HttpsIssuerConnection::with_client(client()?).with_timeout(Duration::from_secs(10));
    let resolver = resolver()?;
    let issuer_key = trusted_issuer_key(trust_list, &resolver, NOW);
    let status = status_cache()?;
    let receiver = Receiver {
        vault: wallet.vault(),
        connection: &connection,
        catalog: wallet.catalog(),
        issuer_key: &issuer_key,
        status: &status,
        copies: 3,
        key_attestor: None,
        wallet_attestor: attestor,
        holder_keys: None,
    };
    Ok(receiver.receive(offer_uri, pin, NOW)?.iter().map(|(_, _, copies)| copies).sum())
}

/// `GET http://<admin><path>` with the staff token: the status and the JSON answer.
pub(crate) fn staff_get(admin: SocketAddr, path_and_query: &str) -> Result<(u16, Value)> {
    let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
    let mut answer = agent
        .get(format!("http://{admin}{path_and_query}"))
        .header("Authorization", format!("Bearer {STAFF_TOKEN}"))
        .call()?;
    let status = answer.status().as_u16();
    Ok((status, serde_json::from_str(&answer.body_mut().read_to_string()?)?))
}

/// Percent-encodes a query parameter value.
pub(crate) fn pct(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") })
        .collect()
}
