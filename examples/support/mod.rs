//! What both flows share: a primary school (issuer and did:web document, served in-process),
//! the trust list, and wallets for a family. Everything runs in one process; where a real
//! deployment has HTTPS, the examples call the other party directly.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use schooltas::did::did_web::DocumentFetcher;
use schooltas::did::{Did, DidUrl, PublicKey, Resolver, Signer, SigningKey, did_key};
use schooltas::issuer::store::SqliteStore;
use schooltas::issuer::{Brin, Issuer, OfferPolicy, SchoolKeys, SchoolLocation, SchoolProfile, StatusPolicy};
use schooltas::school::catalog::Catalog;
use schooltas::school::date::CalendarDate;
use schooltas::school::trust_list::{
    AccreditedIssuer, TrustList, UnverifiedTrustList, VerifiedTrustList, VerifierRegistration,
};
use schooltas::school::{LegalBasis, LocalizedText};
use schooltas::sd_jwt::ClaimPath;
use schooltas::sd_jwt::issuer_key_via_did;
use schooltas::status_list::{InMemoryStatusLists, StatusListCache};
use schooltas::wallet::receive::{Answer, IssuerConnection, Receiver};
use schooltas::wallet::vault::{KdfParams, Unlock, Vault, WalletKey};
use schooltas::wallet::{Role, Wallet};
use serde_json::{Map, Value};

pub(crate) type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// 15 January 2027, 09:00 UTC: the examples' clock.
pub(crate) const NOW: i64 = 1_800_000_000 + 3600;

/// Prints a narrated step.
pub(crate) fn say(line: &str) {
    println!("• {line}");
}

/// Fails the example with `what` unless `ok`.
pub(crate) fn check(ok: bool, what: &str) -> Result<()> {
    if ok { Ok(()) } else { Err(format!("unexpected outcome: {what}").into()) }
}

pub(crate) fn vct(id: &str) -> String {
    Catalog::standard().get(id).map(|t| t.vct().as_str().to_owned()).unwrap_or_default()
}

pub(crate) fn paths(names: &[&str]) -> Vec<ClaimPath> {
    names.iter().map(|n| ClaimPath::claim(*n)).collect()
}

pub(crate) fn text(nl: &str, en: &str) -> LocalizedText {
    LocalizedText { nl: nl.into(), en: en.into() }
}

pub(crate) fn did_of(key: &SigningKey) -> Did {
    did_key::did_for(&PublicKey::Verifying(key.verifying_key().clone()))
}

pub(crate) fn kid_of(key: &SigningKey) -> Result<DidUrl> {
    let did = did_of(key);
    Ok(DidUrl::parse(&format!("{did}#{}", did.as_str().trim_start_matches("did:key:")))?)
}

/// The schools' web servers: did:web document URL → document.
struct Documents(HashMap<String, Vec<u8>>);

impl DocumentFetcher for Documents {
    fn fetch(&self, url: &str) -> schooltas::did::Result<Vec<u8>> {
        self.0
            .get(url)
            .cloned()
            .ok_or_else(|| schooltas::did::Error::Fetch { url: url.to_owned(), reason: "404".into() })
    }
}

/// A resolver that finds the schools' did:web documents (did:key and did:jwk resolve offline).
pub(crate) fn resolver(schools: &[&School]) -> Result<Resolver> {
    let mut documents = HashMap::new();
    for school in schools {
        let url = schooltas::did::did_web::url_for(school.did())?;
        documents.insert(url, school.issuer.profile().did_document().to_string().into_bytes());
    }
    Ok(Resolver::with_web_fetcher(Documents(documents)))
}

/// A school: issuer, pupil administration, published status lists.
pub(crate) struct School {
    pub(crate) name: String,
    pub(crate) issuer: Issuer<SqliteStore>,
    pub(crate) lists: Arc<InMemoryStatusLists>,
    records: Mutex<HashMap<(String, String), Map<String, Value>>>,
}

impl School {
    pub(crate) fn new(name: &str, brin: &str, host: &str, seed: u8) -> Result<School> {
        let location = SchoolLocation::new(Brin::new(brin)?, 0)?;
        let profile = SchoolProfile::new(
            name,
            location,
            Did::parse(&format!("did:web:{host}"))?,
            format!("https://{host}"),
            SchoolKeys::new("key-1", SigningKey::from_ed25519_seed(&[seed; 32])),
        )?;
        let issuer = Issuer::new(
            profile,
            Catalog::standard(),
            SqliteStore::in_memory()?,
            StatusPolicy::new(format!("https://{host}/status")),
        );
        Ok(School {
            name: name.to_owned(),
            issuer,
            lists: Arc::new(InMemoryStatusLists::new()),
            records: Mutex::new(HashMap::new()),
        })
    }

    pub(crate) fn did(&self) -> &Did {
        self.issuer.profile().did()
    }

    pub(crate) fn publish(&self, now: i64) -> Result<()> {
        for (uri, token) in self.issuer.status_list_tokens(now)? {
            self.lists.publish(uri, token);
        }
        Ok(())
    }

    /// Puts a pupil's record in the administration the credential endpoint reads.
    pub(crate) fn register(&self, subject: &str, config_id: &str, claims: Value) -> Result<()> {
        let claims = claims.as_object().cloned().ok_or("a record is a JSON object")?;
        self.records
            .lock()
            .map_err(|_| "administration lock poisoned")?
            .insert((subject.to_owned(), config_id.to_owned()), claims);
        Ok(())
    }

    /// Offers `config_ids` about `subject`; the wallet redeems the offer with the PIN
    /// (OpenID4VCI pre-authorized code), 3 copies each.
    pub(crate) fn issue_to(
        &self,
        wallet: &Wallet,
        resolver: &Resolver,
        subject: &str,
        config_ids: &[&str],
    ) -> Result<usize> {
        let ids: Vec<String> = config_ids.iter().map(|s| (*s).to_owned()).collect();
        let (offer, secrets) = self.issuer.offer(&OfferPolicy::default(), subject, &ids, NOW)?;
        let issuer_key =
            |header: &schooltas::did::jws::Header, iss: Option<&str>| issuer_key_via_did(resolver, header, iss);
        let status = StatusListCache::new(self.lists.clone());
        let catalog = Catalog::standard();
        let receiver = Receiver {
            vault: wallet.vault(),
            connection: self,
            catalog: &catalog,
            issuer_key: &issuer_key,
            status: &status,
            copies: 3,
            key_attestor: None,
            wallet_attestor: None,
            holder_keys: None,
        };
        let pin = secrets.pin.as_ref().map(|p| p.to_string());
        let received = receiver.receive(&offer.to_uri()?, pin.as_deref(), NOW)?;
        Ok(received.iter().map(|(_, _, copies)| copies).sum())
    }
}

impl IssuerConnection for School {
    fn issuer_metadata(&self, _: &str) -> schooltas::wallet::Result<String> {
        Ok(self.issuer.metadata().to_json())
    }
    fn authorization_server_metadata(&self, _: &str) -> schooltas::wallet::Result<String> {
        serde_json::to_string(&self.issuer.authorization_server_metadata())
            .map_err(|e| schooltas::wallet::Error::InvalidInput { reason: e.to_string() })
    }
    fn offer(&self, _: &str) -> schooltas::wallet::Result<String> {
        Err(schooltas::wallet::Error::InvalidInput { reason: "offers are passed by value here".into() })
    }
    fn token(&self, _: &str, form: &str) -> schooltas::wallet::Result<Answer> {
        Ok(self.issuer.token_endpoint(&OfferPolicy::default(), form, NOW).map(|t| t.to_json()))
    }
    fn nonce(&self, _: &str) -> schooltas::wallet::Result<Answer> {
        Ok(self
            .issuer
            .nonce_endpoint(&OfferPolicy::default(), NOW)
            .map(|n| serde_json::to_string(&n).unwrap_or_default()))
    }
    fn credential(&self, _: &str, token: &str, body: &str) -> schooltas::wallet::Result<Answer> {
        let records = self.records.lock().map(|r| r.clone()).unwrap_or_default();
        let administration = move |subject: &str, config: &str| {
            records
                .get(&(subject.to_owned(), config.to_owned()))
                .cloned()
                .ok_or(schooltas::issuer::Error::UnknownCredential { id: subject.to_owned() })
        };
        let answer = self.issuer.credential_endpoint(token, body, &administration, NOW);
        self.publish(NOW).map_err(|e| schooltas::wallet::Error::InvalidInput { reason: e.to_string() })?;
        Ok(answer.map(|response| response.to_json()))
    }
}

/// A wallet on a phone (in memory here; an app opens a file with a passphrase or a platform key).
pub(crate) fn new_wallet(role: Role) -> Result<Wallet> {
    let vault = Vault::in_memory(Unlock::Key(&WalletKey::generate()), KdfParams::INSECURE_FOR_TESTS)?;
    Ok(Wallet::create(vault, role, NOW)?)
}

pub(crate) fn child(birth_date: &str) -> Result<Wallet> {
    new_wallet(Role::Child { birth_date: CalendarDate::parse(birth_date)? })
}

/// The trust-list operator's list: accredited schools and registered verifiers, signed by the
/// operator and verified against the operator's DID, as every wallet and verifier does.
pub(crate) fn trust_list(schools: &[&School], verifiers: Vec<VerifierRegistration>) -> Result<VerifiedTrustList> {
    let operator = SigningKey::from_ed25519_seed(&[90; 32]);
    let mut list = TrustList::new(did_of(&operator), NOW - 86_400, NOW + 365 * 86_400);
    for school in schools {
        let mut accredited = AccreditedIssuer::new(school.did().clone(), school.name.clone())
            .with_brin(school.issuer.profile().location().brin().as_str());
        for credential_type in Catalog::standard().iter() {
            accredited = accredited.accredited_for(credential_type.vct().as_str());
        }
        list = list.with_issuer(accredited);
    }
    for registration in verifiers {
        list = list.with_verifier(registration);
    }
    let jwt = list.sign(&operator, &kid_of(&operator)?)?;
    Ok(UnverifiedTrustList::parse(&jwt)?.verify_with_resolver(&Resolver::offline(), &did_of(&operator), NOW, 60)?)
}

pub(crate) fn consent_basis() -> LegalBasis {
    LegalBasis::Consent
}
