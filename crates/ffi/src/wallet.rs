//! The wallet object the app holds: create or open, receive, answer requests, the guardian
//! hand-over both ways, consents, the log.
//!
//! Every call blocks (network calls for seconds, up to their time-outs): call them off the UI
//! thread (a Kotlin coroutine on `Dispatchers.IO`, a Swift `Task.detached`, a Python thread).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use zeroize::Zeroizing;

use schooltas_did::did_web::HttpsFetcher;
use schooltas_did::net::GuardedClient;
use schooltas_did::{Did, Resolver};
use schooltas_school::date::CalendarDate;
use schooltas_school::trust_list::{UnverifiedTrustList, VerifiedTrustList};
use schooltas_sd_jwt::ClaimPath;
use schooltas_status_list::{StatusListCache, StatusListFetcher as _, StatusListUri};
use schooltas_verifier::HttpsStatusListFetcher;
use schooltas_wallet as w;
use schooltas_wallet::http::HttpsRequestObjectFetcher;
use schooltas_wallet::issuer_http::HttpsIssuerConnection;
use schooltas_wallet::receive::{Receiver, trusted_issuer_key};
use schooltas_wallet::relay::{self, HandOver as LibHandOver, ReplyTo};
use schooltas_wallet::vault::{KdfParams, Unlock, Vault, WalletKey};

use crate::error::WalletError;
use crate::keys::{ForeignHolderKeys, ForeignKeyStore};
use crate::records::{AgeBand, Consent, ConsentPrompt, CredentialInfo, Decision, GuardianPrompt, LogEntry, Received};

type Result<T> = std::result::Result<T, WalletError>;

/// How a wallet file is unlocked.
#[derive(uniffi::Enum)]
pub enum WalletUnlock {
    /// A passphrase the person types (Argon2id-derived key).
    Passphrase {
        /// The passphrase.
        passphrase: String,
    },
    /// A 32-byte key the platform keeps (Android Keystore-wrapped, iOS Keychain).
    PlatformKey {
        /// The 32 key bytes.
        key: Vec<u8>,
    },
}

impl std::fmt::Debug for WalletUnlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WalletUnlock::Passphrase { .. } => "WalletUnlock::Passphrase(<redacted>)",
            WalletUnlock::PlatformKey { .. } => "WalletUnlock::PlatformKey(<redacted>)",
        })
    }
}

/// Whose wallet a new file is.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum WalletRole {
    /// A pupil born on `birth_date` (`YYYY-MM-DD`): under 16 a parent approves.
    Child {
        /// The birth date, `YYYY-MM-DD`.
        birth_date: String,
    },
    /// A parent or guardian.
    Parent,
}

/// What the wallet trusts and how it reaches the network.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct WalletConfig {
    /// The trust-list operator's signed list (`trust-list+jwt`), naming accredited schools and
    /// registered verifiers.
    pub trust_list_jwt: String,
    /// The operator's DID (`did:key:…`), whose key must have signed the list.
    pub trust_list_operator: String,
    /// CA certificates (PEM) to trust for HTTPS **instead of** the Web PKI roots: a school's
    /// own PKI, or a test CA. `None`: the Web PKI.
    pub trust_roots_pem: Option<String>,
    /// Lets the wallet reach loopback and private addresses. Only for tests against services
    /// on this machine; a phone app never sets it.
    pub dangerous_allow_private_addresses: bool,
}

/// The network side: one guarded HTTPS client and what is built on it.
struct Net {
    client: GuardedClient,
    trust_list: VerifiedTrustList,
    resolver: Resolver,
}

impl Net {
    fn new(config: &WalletConfig, now: i64) -> Result<Net> {
        let mut client = GuardedClient::new("schooltas-wallet");
        if let Some(pem) = &config.trust_roots_pem {
            client = client.with_trust_anchors_pem(pem.as_bytes()).map_err(|e| WalletError::input(e.to_string()))?;
        }
        if config.dangerous_allow_private_addresses {
            client = client.dangerous_allow_private_addresses();
        }
        let operator = Did::parse(&config.trust_list_operator)?;
        let trust_list = UnverifiedTrustList::parse(&config.trust_list_jwt)
            .and_then(|list| list.verify_with_resolver(&Resolver::offline(), &operator, now, 60))
            .map_err(|e| WalletError::Credential { message: format!("the trust list is not usable: {e}") })?;
        let resolver = Resolver::with_web_fetcher(HttpsFetcher::new().with_client(client.clone()));
        Ok(Net { client, trust_list, resolver })
    }

    fn status(&self) -> StatusListCache {
        let fetcher = HttpsStatusListFetcher::new().with_client(self.client.clone());
        StatusListCache::new(move |uri: &StatusListUri| fetcher.fetch(uri))
    }

    fn connection(&self) -> HttpsIssuerConnection {
        HttpsIssuerConnection::with_client(self.client.clone()).with_timeout(Duration::from_secs(20))
    }
}

struct Inner {
    wallet: w::Wallet,
    net: Net,
}

/// A child's or a parent's wallet, in a file on the phone.
#[derive(uniffi::Object)]
pub struct Wallet {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wallet").finish_non_exhaustive()
    }
}

fn unlock_key(key: &[u8]) -> Result<WalletKey> {
    let bytes: Zeroizing<[u8; 32]> =
        Zeroizing::new(key.try_into().map_err(|_| WalletError::input("a platform key is exactly 32 bytes"))?);
    Ok(WalletKey::from_bytes(*bytes))
}

fn with_unlock<T>(unlock: &WalletUnlock, then: impl FnOnce(Unlock<'_>) -> w::Result<T>) -> Result<T> {
    match unlock {
        WalletUnlock::Passphrase { passphrase } => Ok(then(Unlock::Passphrase(passphrase))?),
        WalletUnlock::PlatformKey { key } => {
            let key = unlock_key(key)?;
            Ok(then(Unlock::Key(&key))?)
        }
    }
}

fn store(key_store: Option<Arc<dyn ForeignKeyStore>>) -> Option<Arc<dyn w::keys::HolderKeys>> {
    key_store.map(|store| Arc::new(ForeignHolderKeys(store)) as Arc<dyn w::keys::HolderKeys>)
}

#[uniffi::export]
impl Wallet {
    /// Makes a new wallet file at `path` for `role`, unlocked by `unlock`. With `key_store`,
    /// the holder keys of every credential it receives are made and used there (the secure
    /// element); without, they are software keys sealed in the file.
    #[uniffi::constructor]
    pub fn create(
        path: String,
        unlock: WalletUnlock,
        role: WalletRole,
        config: WalletConfig,
        key_store: Option<Arc<dyn ForeignKeyStore>>,
        now: i64,
    ) -> Result<Arc<Wallet>> {
        let net = Net::new(&config, now)?;
        let role = match role {
            WalletRole::Child { birth_date } => w::Role::Child {
                birth_date: CalendarDate::parse(&birth_date)
                    .map_err(|_| WalletError::input("the birth date is not a date YYYY-MM-DD"))?,
            },
            WalletRole::Parent => w::Role::Parent,
        };
        let vault = with_unlock(&unlock, |unlock| Vault::create(&path, unlock, KdfParams::default()))?;
        let mut wallet = w::Wallet::create(vault, role, now)?;
        if let Some(keys) = store(key_store) {
            wallet = wallet.with_holder_keys(keys);
        }
        Ok(Arc::new(Wallet { inner: Mutex::new(Inner { wallet, net }) }))
    }

    /// Opens the wallet file at `path`. A wallet whose copies' keys are in the app's store
    /// needs that store again to present them.
    #[uniffi::constructor]
    pub fn open(
        path: String,
        unlock: WalletUnlock,
        config: WalletConfig,
        key_store: Option<Arc<dyn ForeignKeyStore>>,
        now: i64,
    ) -> Result<Arc<Wallet>> {
        let net = Net::new(&config, now)?;
        let vault = with_unlock(&unlock, |unlock| Vault::open(&path, unlock))?;
        let mut wallet = w::Wallet::open(vault)?;
        if let Some(keys) = store(key_store) {
            wallet = wallet.with_holder_keys(keys);
        }
        Ok(Arc::new(Wallet { inner: Mutex::new(Inner { wallet, net }) }))
    }

    /// The wallet's own DID.
    pub fn owner_did(&self) -> String {
        self.lock().wallet.owner().did().to_string()
    }

    /// Whether this is a child's wallet.
    pub fn is_child(&self) -> bool {
        matches!(self.lock().wallet.owner().role(), w::Role::Child { .. })
    }

    /// The holder's age band at `now`.
    pub fn age_band(&self, now: i64) -> AgeBand {
        self.lock().wallet.owner().age_band(now).into()
    }

    /// Redeems a credential offer (`openid-credential-offer://…`, from the school's letter)
    /// with its PIN, over HTTPS: `copies` copies of each credential, each checked (the issuer
    /// in the trust list, its key, its status) and stored. A wrong PIN is
    /// `WalletError.IssuerRefused` with code `invalid_grant`.
    pub fn receive_offer(
        &self,
        offer_uri: String,
        pin: Option<String>,
        copies: u32,
        now: i64,
    ) -> Result<Vec<Received>> {
        let pin = pin.map(Zeroizing::new);
        let inner = self.lock();
        let connection = inner.net.connection();
        let issuer_key = trusted_issuer_key(&inner.net.trust_list, &inner.net.resolver, now);
        let status = inner.net.status();
        let receiver = Receiver {
            vault: inner.wallet.vault(),
            connection: &connection,
            catalog: inner.wallet.catalog(),
            issuer_key: &issuer_key,
            status: &status,
            copies: copies as usize,
            key_attestor: None,
            wallet_attestor: None,
            holder_keys: Some(inner.wallet.holder_keys()),
        };
        let received = receiver.receive(&offer_uri, pin.as_deref().map(String::as_str), now)?;
        Ok(received
            .into_iter()
            .map(|(configuration, vct, copies)| Received { configuration, vct, copies: copies as u64 })
            .collect())
    }

    /// The credentials held, one entry per batch.
    pub fn credentials(&self) -> Result<Vec<CredentialInfo>> {
        Ok(self.lock().wallet.credentials()?.iter().map(CredentialInfo::from).collect())
    }

    /// Reads a verifier's request (`openid4vp://…` from a QR code; the request object is
    /// fetched over HTTPS and checked against the trust list) into the prompt to show.
    pub fn handle_request(&self, uri: String, now: i64) -> Result<ConsentPrompt> {
        let inner = self.lock();
        let fetcher = HttpsRequestObjectFetcher::new().with_client(inner.net.client.clone());
        let fetch = |uri: &str| fetcher.fetch(uri);
        let verifiers = w::Verifiers {
            trust_list: &inner.net.trust_list,
            resolver: &inner.net.resolver,
            fetch_request_object: Some(&fetch),
        };
        Ok((&inner.wallet.handle_request(&uri, &verifiers, now)?).into())
    }

    /// Decides on a prompted request: a response to post, or (a child under 16 saying yes) a
    /// request for the parent's approval to hand over.
    pub fn decide(&self, request_id: String, decision: Decision, now: i64) -> Result<Outcome> {
        let decision = match decision {
            Decision::ApproveAll => w::Decision::ApproveAll,
            Decision::Deny => w::Decision::Deny,
            Decision::Approve { selection } => {
                let mut chosen = std::collections::BTreeMap::new();
                for item in selection {
                    let paths = item
                        .paths
                        .iter()
                        .map(|path| ClaimPath::parse_dotted(path))
                        .collect::<schooltas_sd_jwt::Result<Vec<_>>>()
                        .map_err(|_| WalletError::input("a selected claim path is not a dotted path of the prompt"))?;
                    chosen.insert(item.query_id, paths);
                }
                w::Decision::Approve(chosen)
            }
        };
        Ok(match self.lock().wallet.decide(&request_id, decision, now)? {
            w::Outcome::Send(response) => Outcome::Send { response: Arc::new(Response(response)) },
            w::Outcome::AwaitGuardian(request) => {
                Outcome::AwaitGuardian { request: Arc::new(GuardianRequest(request)) }
            }
        })
    }

    /// Posts a response (or refusal) to the verifier; the verifier's `redirect_uri`, if it
    /// sent one. A refused answer (a replay, a failed check) is `WalletError.VerifierRefused`.
    pub fn post_response(&self, response: Arc<Response>) -> Result<Option<String>> {
        Ok(self.lock().net.connection().post_response(&response.0)?)
    }

    /// The child's phone: seals the request for the parent and leaves it at the school's relay
    /// (`relay_base`, `https://…/relay`); show the hand-over's `link()` as a QR code.
    pub fn hand_over_to_guardian(&self, request: Arc<GuardianRequest>, relay_base: String) -> Result<Arc<HandOver>> {
        let inner = self.lock();
        Ok(Arc::new(HandOver(LibHandOver::send(&inner.net.client, &relay_base, &request.0)?)))
    }

    /// The child's phone: the parent's answer, once it is at the relay (`None` until then).
    pub fn poll_guardian_answer(&self, hand_over: Arc<HandOver>) -> Result<Option<Arc<GuardianAnswer>>> {
        let inner = self.lock();
        Ok(hand_over.0.poll_answer(&inner.net.client)?.map(|answer| Arc::new(GuardianAnswer(answer))))
    }

    /// The child's phone: with the parent's answer, the response to post (a refusal if the
    /// parent said no).
    pub fn complete_with_guardian(&self, answer: Arc<GuardianAnswer>, now: i64) -> Result<Arc<Response>> {
        Ok(Arc::new(Response(self.lock().wallet.complete_with_guardian(&answer.0, now)?)))
    }

    /// The parent's phone: fetches and opens the child's request from the hand-over link (the
    /// QR code on the child's phone).
    pub fn fetch_child_request(&self, link: String) -> Result<Arc<ChildRequest>> {
        let link = Zeroizing::new(link);
        let inner = self.lock();
        let (request, reply_to) = relay::fetch_request(&inner.net.client, &link)?;
        Ok(Arc::new(ChildRequest { request, reply_to }))
    }

    /// The parent's phone: checks the child's request itself (the verifier's request object,
    /// the trust list, the presentations) and returns what to show.
    pub fn review_child_request(&self, request: Arc<ChildRequest>, now: i64) -> Result<GuardianPrompt> {
        let inner = self.lock();
        let fetcher = HttpsRequestObjectFetcher::new().with_client(inner.net.client.clone());
        let fetch = |uri: &str| fetcher.fetch(uri);
        let verifiers = w::Verifiers {
            trust_list: &inner.net.trust_list,
            resolver: &inner.net.resolver,
            fetch_request_object: Some(&fetch),
        };
        Ok((&inner.wallet.review_child_request(&request.request, &verifiers, now)?).into())
    }

    /// The parent's phone: approves (signs the guardian approval with the guardianship
    /// credential's key) or refuses, and sends the answer back through the relay.
    pub fn answer_child_request(
        &self,
        request: Arc<ChildRequest>,
        approve: bool,
        now: i64,
    ) -> Result<Arc<GuardianAnswer>> {
        let inner = self.lock();
        let fetcher = HttpsRequestObjectFetcher::new().with_client(inner.net.client.clone());
        let fetch = |uri: &str| fetcher.fetch(uri);
        let verifiers = w::Verifiers {
            trust_list: &inner.net.trust_list,
            resolver: &inner.net.resolver,
            fetch_request_object: Some(&fetch),
        };
        let answer = inner.wallet.answer_child_request(&request.request, approve, &verifiers, now)?;
        request.reply_to.send(&inner.net.client, &answer)?;
        Ok(Arc::new(GuardianAnswer(answer)))
    }

    /// The consents given from this wallet (and, in a child's, those a parent gave for it).
    pub fn consents(&self) -> Result<Vec<Consent>> {
        Ok(self.lock().wallet.consents()?.iter().map(Consent::from).collect())
    }

    /// Withdraws a consent: signs the withdrawal (recorded in the wallet at once) and posts it
    /// to the verifier. If posting fails, `send_withdrawal` sends the returned message again.
    pub fn withdraw(&self, consent_id: String, now: i64) -> Result<Arc<Withdrawal>> {
        let inner = self.lock();
        let message = inner.wallet.withdraw(&consent_id, now)?;
        let withdrawal = Arc::new(Withdrawal(message));
        inner.net.connection().post_withdrawal(&withdrawal.0)?;
        Ok(withdrawal)
    }

    /// Posts a withdrawal (again) to the verifier that holds the consent.
    pub fn send_withdrawal(&self, withdrawal: Arc<Withdrawal>) -> Result<()> {
        Ok(self.lock().net.connection().post_withdrawal(&withdrawal.0)?)
    }

    /// The log, its hash chain verified (an edited or removed entry is `WalletError.Storage`).
    pub fn log(&self) -> Result<Vec<LogEntry>> {
        Ok(self.lock().wallet.log()?.iter().map(LogEntry::from).collect())
    }

    /// The log as JSON: what was shared about me, with whom, when and why (GDPR art. 15).
    pub fn export_log(&self) -> Result<String> {
        Ok(self.lock().wallet.export_log()?)
    }
}

impl Wallet {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the wallet half-written (every write is
        // one SQLite transaction), so a poisoned lock is used as it is.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What happens after a decision.
#[derive(uniffi::Enum)]
pub enum Outcome {
    /// Post this to the verifier (`Wallet.post_response`).
    Send {
        /// The response or refusal.
        response: Arc<Response>,
    },
    /// Ask the parent first (`Wallet.hand_over_to_guardian`).
    AwaitGuardian {
        /// The request for the parent's wallet.
        request: Arc<GuardianRequest>,
    },
}

/// A response (or refusal) for the verifier.
#[derive(uniffi::Object)]
pub struct Response(w::ResponseToSend);

#[uniffi::export]
impl Response {
    /// Whether anything is disclosed (false for a refusal).
    pub fn discloses(&self) -> bool {
        self.0.discloses
    }

    /// Where it is posted.
    pub fn response_uri(&self) -> String {
        self.0.response_uri.clone()
    }
}

/// A child's request for the parent's approval.
#[derive(uniffi::Object)]
pub struct GuardianRequest(w::GuardianRequest);

#[uniffi::export]
impl GuardianRequest {
    /// The child's wallet's id for the request.
    pub fn request_id(&self) -> String {
        self.0.request_id.clone()
    }
}

/// A request left at the relay for the parent's phone.
#[derive(uniffi::Object)]
pub struct HandOver(LibHandOver);

#[uniffi::export]
impl HandOver {
    /// The link (with its key after `#`) to show the parent's phone as a QR code: secret
    /// until the parent scanned it.
    pub fn link(&self) -> String {
        self.0.link().to_string()
    }

    /// The child's request id.
    pub fn request_id(&self) -> String {
        self.0.request_id().to_owned()
    }
}

/// The parent's answer.
#[derive(uniffi::Object)]
pub struct GuardianAnswer(w::GuardianAnswer);

#[uniffi::export]
impl GuardianAnswer {
    /// Whether the parent approved.
    pub fn approved(&self) -> bool {
        matches!(self.0, w::GuardianAnswer::Approved { .. })
    }
}

/// A child's request as the parent's phone fetched it, and where its answer goes.
#[derive(uniffi::Object)]
pub struct ChildRequest {
    request: w::GuardianRequest,
    reply_to: ReplyTo,
}

#[uniffi::export]
impl ChildRequest {
    /// The one-time child link the presentations carry.
    pub fn child_id(&self) -> String {
        self.request.child_id.clone()
    }
}

/// A signed withdrawal of a consent.
#[derive(uniffi::Object)]
pub struct Withdrawal(w::WithdrawalMessage);

#[uniffi::export]
impl Withdrawal {
    /// The verifier it goes to.
    pub fn verifier(&self) -> String {
        self.0.verifier.clone()
    }
}
