//! The guardian hand-over between two phones: the child's wallet puts its [`GuardianRequest`]
//! into a box on the verifier's relay, the parent's wallet reads it and puts its
//! [`GuardianAnswer`] back, the child's wallet polls for the answer
//! (docs/protocol/guardian-approval.md, "Transport between two phones").
//!
//! Both messages are encrypted end to end with ChaCha20-Poly1305 under a fresh 256-bit key
//! that travels only in the link's fragment (`#k=…`): an HTTP client never sends a fragment, so
//! the relay holds ciphertext only. The associated data binds a message to its box and its
//! direction (`"schooltas guardian hand-over v1" ‖ box id ‖ "request"` or `"answer"`), so an
//! answer replayed as a request, or a message moved to another box, does not decrypt.
//!
//! The link is `https://<relay base>/boxes/<box id>#k=<base64url key>`; a phone app registered
//! for the custom scheme may receive it wrapped as `schooltas-guardian://?link=<percent-encoded
//! link>` (an `https` link opens a browser on a phone without the app, which would do nothing
//! useful but also sends no key anywhere). [`HandOverLink::parse`] reads both.
//!
//! ```
//! use schooltas_wallet::relay::HandOverLink;
//! let link = HandOverLink::parse(
//!     "https://delinde.example/relay/boxes/BwcHBwcHBwcHBwcHBwcHBw#k=AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
//! )?;
//! assert_eq!(link.box_url(), "https://delinde.example/relay/boxes/BwcHBwcHBwcHBwcHBwcHBw");
//! assert!(!format!("{link:?}").contains("AQEB")); // the key is never printed
//! # Ok::<(), schooltas_wallet::Error>(())
//! ```

use std::fmt;
use std::time::Duration;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rand::RngExt as _;
use schooltas_did::net::{Get, GuardedClient, HttpTarget, Post};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::request::{GuardianAnswer, GuardianRequest};

/// The first part of every message's associated data.
pub const AAD_PREFIX: &[u8] = b"schooltas guardian hand-over v1";

/// The custom scheme a phone app may register for hand-over links.
pub const APP_SCHEME: &str = "schooltas-guardian://";

/// The media type of a slot's body: nonce ‖ ciphertext ‖ tag.
pub const SLOT_MEDIA_TYPE: &str = "application/octet-stream";

/// The longest slot read (the relay's default limit).
pub const MAX_SLOT_BYTES: usize = 64 << 10;

/// The time limit of one exchange with the relay.
pub const TIMEOUT: Duration = Duration::from_secs(20);

const NONCE_LEN: usize = 12;
const KEY_LEN: usize = 32;
const BOX_ID_BYTES: usize = 16;

/// Which way a message goes: part of its associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The child's request, to the parent.
    Request,
    /// The parent's answer, to the child.
    Answer,
}

impl Direction {
    fn label(self) -> &'static [u8] {
        match self {
            Direction::Request => b"request",
            Direction::Answer => b"answer",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Direction::Request => "request",
            Direction::Answer => "answer",
        }
    }
}

fn aad(box_id: &str, direction: Direction) -> Vec<u8> {
    [AAD_PREFIX, box_id.as_bytes(), direction.label()].concat()
}

/// Encrypts `plaintext` for the box `box_id` under `key`: a random nonce, then the ciphertext
/// with its tag.
pub fn seal(key: &[u8; 32], box_id: &str, direction: Direction, plaintext: &[u8]) -> Result<Vec<u8>> {
    let nonce: [u8; NONCE_LEN] = rand::rng().random();
    let ciphertext = ChaCha20Poly1305::new(key.into())
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad(box_id, direction) })
        .map_err(|_| Error::InvalidInput { reason: "the hand-over could not be encrypted".into() })?;
    Ok([&nonce[..], &ciphertext].concat())
}

/// Decrypts a slot's body; [`Error::HandOverUnreadable`] for anything altered, for another
/// box or direction, or under another key.
pub fn open(key: &[u8; 32], box_id: &str, direction: Direction, body: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let unreadable = || Error::HandOverUnreadable { what: direction.what() };
    let (nonce, ciphertext) = body.split_at_checked(NONCE_LEN).ok_or_else(unreadable)?;
    ChaCha20Poly1305::new(key.into())
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad(box_id, direction) })
        .map(Zeroizing::new)
        .map_err(|_| unreadable())
}

/// A parsed hand-over link: the box's URL and the key. `Debug` shows the box only.
#[derive(Clone)]
pub struct HandOverLink {
    box_url: String,
    box_id: String,
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for HandOverLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandOverLink").field("box_url", &self.box_url).finish_non_exhaustive()
    }
}

fn bad_link(reason: &'static str) -> Error {
    Error::BadHandOverLink { reason }
}

impl HandOverLink {
    /// A new box under `relay_base` (`https://delinde.example/relay`) with a fresh id and key.
    pub fn generate(relay_base: &str) -> Result<Self> {
        let base = relay_base.trim_end_matches('/');
        check_https(base)?;
        if base.contains(['?', '#']) {
            return Err(bad_link("the relay's URL has a query or fragment"));
        }
        let id: [u8; BOX_ID_BYTES] = rand::rng().random();
        let box_id = schooltas_did::base64url::encode(id);
        let mut key = Zeroizing::new([0u8; KEY_LEN]);
        rand::rng().fill(&mut key[..]);
        Ok(HandOverLink { box_url: format!("{base}/boxes/{box_id}"), box_id, key })
    }

    /// Reads `https://…/boxes/<id>#k=<key>`, or the same wrapped as
    /// `schooltas-guardian://?link=<percent-encoded link>`.
    pub fn parse(link: &str) -> Result<Self> {
        let link = link.trim();
        let unwrapped: Zeroizing<String>;
        let link = match link.strip_prefix(APP_SCHEME) {
            Some(query) => {
                let query = query.strip_prefix('?').ok_or_else(|| bad_link("the app link has no query"))?;
                let pairs = schooltas_oid4vc::form::decode(query)
                    .map_err(|_| bad_link("the app link's query is not percent-encoded pairs"))?;
                let mut links = pairs.into_iter().filter(|(name, _)| name == "link").map(|(_, value)| value);
                let (Some(inner), None) = (links.next(), links.next()) else {
                    return Err(bad_link("the app link names not exactly one `link`"));
                };
                unwrapped = Zeroizing::new(inner);
                unwrapped.as_str()
            }
            None => link,
        };
        let (url, fragment) = link.split_once('#').ok_or_else(|| bad_link("the link has no key (no #k=…)"))?;
        let encoded = fragment.strip_prefix("k=").ok_or_else(|| bad_link("the link's fragment is not k=<key>"))?;
        let key = schooltas_did::base64url::decode_array::<KEY_LEN>(encoded)
            .filter(|key| schooltas_did::base64url::encode(key) == encoded)
            .map(Zeroizing::new)
            .ok_or_else(|| bad_link("the link's key is not 32 bytes of base64url"))?;
        check_https(url)?;
        if url.contains('?') {
            return Err(bad_link("the link has a query"));
        }
        let (_, box_id) = url.rsplit_once("/boxes/").ok_or_else(|| bad_link("the link names no box"))?;
        let valid = schooltas_did::base64url::decode_array::<BOX_ID_BYTES>(box_id)
            .is_some_and(|id| schooltas_did::base64url::encode(id) == box_id);
        if !valid {
            return Err(bad_link("the link's box id is not 128 bits of base64url"));
        }
        Ok(HandOverLink { box_url: url.to_owned(), box_id: box_id.to_owned(), key })
    }

    /// The link for the parent (the QR code): contains the key.
    pub fn to_link(&self) -> Zeroizing<String> {
        let mut link = Zeroizing::new(format!("{}#k=", self.box_url));
        schooltas_did::base64url::encode_into(&self.key[..], &mut link);
        link
    }

    /// The link wrapped for the app's custom scheme: contains the key.
    pub fn to_app_link(&self) -> Zeroizing<String> {
        let inner = self.to_link();
        Zeroizing::new(format!("{APP_SCHEME}?{}", schooltas_oid4vc::form::encode(&[("link", inner.as_str())])))
    }

    /// The box's URL (without the key): where the request is.
    pub fn box_url(&self) -> &str {
        &self.box_url
    }

    /// Where the answer is.
    pub fn answer_url(&self) -> String {
        format!("{}/answer", self.box_url)
    }

    fn seal(&self, direction: Direction, plaintext: &[u8]) -> Result<Vec<u8>> {
        seal(&self.key, &self.box_id, direction, plaintext)
    }

    fn open(&self, direction: Direction, body: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        open(&self.key, &self.box_id, direction, body)
    }
}

fn check_https(url: &str) -> Result<()> {
    match HttpTarget::parse(url) {
        Ok(target) if target.https => Ok(()),
        Ok(_) => Err(bad_link("the link is not an https URL")),
        Err(_) => Err(bad_link("the link is not an https URL with a host")),
    }
}

/// The child's side of a hand-over: the link (with the key) and the request it carries.
/// `Debug` shows neither the key nor the link; serialized (for a CLI to keep it between runs)
/// it **does** contain the key, so store it like a secret (mode 0600) and delete it after.
#[derive(Clone)]
pub struct HandOver {
    link: HandOverLink,
    request_id: String,
}

impl fmt::Debug for HandOver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandOver")
            .field("box_url", &self.link.box_url)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct StoredHandOver<L> {
    link: L,
    request_id: String,
}

impl Serialize for HandOver {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let link = self.link.to_link();
        StoredHandOver { link: link.as_str(), request_id: self.request_id.clone() }.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for HandOver {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let stored = StoredHandOver::<String>::deserialize(deserializer)?;
        let link = Zeroizing::new(stored.link);
        let link = HandOverLink::parse(&link).map_err(serde::de::Error::custom)?;
        Ok(HandOver { link, request_id: stored.request_id })
    }
}

impl HandOver {
    /// Encrypts `request` into a new box under `relay_base` and sends it; the returned
    /// hand-over's [`link`](Self::link) is what the parent's phone needs.
    pub fn send(client: &GuardedClient, relay_base: &str, request: &GuardianRequest) -> Result<HandOver> {
        let link = HandOverLink::generate(relay_base)?;
        let json = Zeroizing::new(
            serde_json::to_vec(request)
                .map_err(|_| Error::InvalidInput { reason: "the guardian request could not be written".into() })?,
        );
        let body = link.seal(Direction::Request, &json)?;
        write_slot(client, link.box_url(), &body)?;
        Ok(HandOver { link, request_id: request.request_id.clone() })
    }

    /// The link for the parent (shown as a QR code on the child's phone): contains the key.
    pub fn link(&self) -> Zeroizing<String> {
        self.link.to_link()
    }

    /// The parsed link.
    pub fn hand_over_link(&self) -> &HandOverLink {
        &self.link
    }

    /// The child's request this hand-over carries.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Looks once for the parent's answer: `None` while there is none yet. An answer for
    /// another request than this hand-over's is refused ([`Error::HandOverUnreadable`] is for
    /// what does not decrypt; this is [`Error::InvalidInput`]).
    pub fn poll_answer(&self, client: &GuardedClient) -> Result<Option<GuardianAnswer>> {
        let Some(body) = read_slot(client, &self.link.answer_url(), true)? else { return Ok(None) };
        let plaintext = self.link.open(Direction::Answer, &body)?;
        let answer: GuardianAnswer = schooltas_did::strict_json::from_slice(&plaintext)
            .map_err(|_| Error::InvalidInput { reason: "the decrypted answer is not a guardian answer".into() })?;
        let (GuardianAnswer::Approved { request_id, .. } | GuardianAnswer::Denied { request_id }) = &answer;
        if *request_id != self.request_id {
            return Err(Error::InvalidInput { reason: "the answer in the box is for another request".into() });
        }
        Ok(Some(answer))
    }
}

/// Where the parent's wallet sends its answer: the box and key of the link it read.
#[derive(Clone, Debug)]
pub struct ReplyTo {
    link: HandOverLink,
    request_id: String,
}

impl ReplyTo {
    /// Encrypts `answer` and writes it to the box's answer slot (once: a second answer is
    /// [`Error::RelayRefused`] with 409 `slot_taken`). An answer to another request is refused
    /// before anything is sent.
    pub fn send(&self, client: &GuardedClient, answer: &GuardianAnswer) -> Result<()> {
        let (GuardianAnswer::Approved { request_id, .. } | GuardianAnswer::Denied { request_id }) = answer;
        if *request_id != self.request_id {
            return Err(Error::InvalidInput { reason: "this answer is for another request than the box holds".into() });
        }
        let json = Zeroizing::new(
            serde_json::to_vec(answer)
                .map_err(|_| Error::InvalidInput { reason: "the guardian answer could not be written".into() })?,
        );
        let body = self.link.seal(Direction::Answer, &json)?;
        write_slot(client, &self.link.answer_url(), &body)
    }
}

/// The parent's side: reads the box the link names and decrypts the child's request, which the
/// parent's wallet then reviews ([`crate::Wallet::review_child_request`] checks the verifier's
/// request object itself).
pub fn fetch_request(client: &GuardedClient, link: &str) -> Result<(GuardianRequest, ReplyTo)> {
    let link = HandOverLink::parse(link)?;
    let body = read_slot(client, link.box_url(), false)?
        .ok_or(Error::RelayRefused { status: 204, error: "empty_slot".into() })?;
    let plaintext = link.open(Direction::Request, &body)?;
    let request: GuardianRequest = schooltas_did::strict_json::from_slice(&plaintext)
        .map_err(|_| Error::InvalidInput { reason: "the decrypted request is not a guardian request".into() })?;
    let reply = ReplyTo { link, request_id: request.request_id.clone() };
    Ok((request, reply))
}

fn write_slot(client: &GuardedClient, url: &str, body: &[u8]) -> Result<()> {
    let post = Post {
        url,
        content_type: SLOT_MEDIA_TYPE,
        body,
        accept: "application/json",
        bearer: None,
        dpop: None,
        client_attestation: None,
        max_len: 4096,
        timeout: TIMEOUT,
        plain_http: false,
    };
    let answer = client.post(&post).map_err(|e| crate::http::net_error("hand-over", url, 4096, e))?;
    match answer.status {
        200..=299 => Ok(()),
        status => Err(relay_refused(status, &answer.body)),
    }
}

/// GETs a slot: `Some(body)` for 200, `None` for 204 when `empty_ok`.
fn read_slot(client: &GuardedClient, url: &str, empty_ok: bool) -> Result<Option<Vec<u8>>> {
    let get = Get { url, accept: SLOT_MEDIA_TYPE, max_len: MAX_SLOT_BYTES, timeout: TIMEOUT, plain_http: false };
    let answer = client.get(&get).map_err(|e| crate::http::net_error("hand-over", url, MAX_SLOT_BYTES, e))?;
    match answer.status {
        204 if empty_ok => Ok(None),
        200 => Ok(Some(answer.body)),
        status => Err(relay_refused(status, &answer.body)),
    }
}

/// The relay's refusal: its error code when it sent one (a GET's body is not read for a
/// non-2xx status, so the code is then the status's meaning in the relay's words).
fn relay_refused(status: u16, body: &[u8]) -> Error {
    let sent = serde_json::from_slice::<serde_json::Value>(body).ok().and_then(|v| {
        v.get("error")
            .and_then(serde_json::Value::as_str)
            .map(|code| code.chars().filter(char::is_ascii_graphic).take(64).collect::<String>())
    });
    let error = sent.unwrap_or_else(|| {
        match status {
            400 => "invalid_box_id",
            404 => "box_not_found",
            409 => "slot_taken",
            413 => "slot_too_large",
            503 => "relay_full",
            _ => "unexpected_status",
        }
        .to_owned()
    });
    Error::RelayRefused { status, error }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    fn link() -> HandOverLink {
        HandOverLink::generate("https://delinde.example/relay/").unwrap()
    }

    #[test]
    fn a_message_round_trips_and_the_link_survives_both_spellings() {
        let link = link();
        assert!(link.box_url().starts_with("https://delinde.example/relay/boxes/"));
        let sealed = link.seal(Direction::Request, b"{\"hello\":1}").unwrap();
        assert_eq!(sealed.len(), NONCE_LEN + 11 + 16);
        assert_eq!(&link.open(Direction::Request, &sealed).unwrap()[..], b"{\"hello\":1}");

        for text in [link.to_link(), link.to_app_link()] {
            let parsed = HandOverLink::parse(&text).unwrap();
            assert_eq!(parsed.box_url(), link.box_url());
            assert_eq!(&parsed.open(Direction::Request, &sealed).unwrap()[..], b"{\"hello\":1}");
        }
        assert!(link.to_app_link().starts_with("schooltas-guardian://?link=https%3A%2F%2F"));
    }

    #[test]
    fn garbled_moved_replayed_or_wrongly_keyed_messages_are_refused() {
        let link = link();
        let sealed = link.seal(Direction::Answer, b"yes").unwrap();
        // Any flipped bit.
        for at in [0, NONCE_LEN, sealed.len() - 1] {
            let mut garbled = sealed.clone();
            garbled[at] ^= 1;
            assert!(matches!(
                link.open(Direction::Answer, &garbled),
                Err(Error::HandOverUnreadable { what: "answer" })
            ));
        }
        // Too short to hold a nonce.
        assert!(matches!(link.open(Direction::Answer, &sealed[..5]), Err(Error::HandOverUnreadable { .. })));
        // An answer replayed as a request.
        assert!(matches!(link.open(Direction::Request, &sealed), Err(Error::HandOverUnreadable { what: "request" })));
        // Another box, same key.
        let other = HandOverLink { box_id: "AAAAAAAAAAAAAAAAAAAAAA".into(), ..link.clone() };
        assert!(matches!(other.open(Direction::Answer, &sealed), Err(Error::HandOverUnreadable { .. })));
        // Another key.
        let wrong = HandOverLink { key: Zeroizing::new([9; 32]), ..link.clone() };
        assert!(matches!(wrong.open(Direction::Answer, &sealed), Err(Error::HandOverUnreadable { .. })));
    }

    #[test]
    fn malformed_links_are_refused_with_their_reason() {
        let good = link().to_link();
        let (url, key) = good.split_once("#k=").unwrap();
        let cases = [
            (url.to_owned(), "the link has no key (no #k=…)"),
            (format!("{url}#key={key}"), "the link's fragment is not k=<key>"),
            (format!("{url}#k={}", &key[1..]), "the link's key is not 32 bytes of base64url"),
            (format!("{url}#k={key}A"), "the link's key is not 32 bytes of base64url"),
            (format!("{}#k={key}", url.replace("https://", "http://")), "the link is not an https URL"),
            (format!("https://delinde.example/relay/{}#k={key}", "x".repeat(22)), "the link names no box"),
            (format!("{}x#k={key}", url), "the link's box id is not 128 bits of base64url"),
            (format!("{url}?a=b#k={key}"), "the link has a query"),
            ("schooltas-guardian://link=x".to_owned(), "the app link has no query"),
            ("schooltas-guardian://?other=x".to_owned(), "the app link names not exactly one `link`"),
        ];
        for (text, expected) in cases {
            match HandOverLink::parse(&text) {
                Err(Error::BadHandOverLink { reason }) => assert_eq!(reason, expected, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(HandOverLink::generate("http://delinde.example/relay"), Err(Error::BadHandOverLink { .. })));
    }

    #[test]
    fn debug_never_shows_the_key_and_a_kept_hand_over_reads_back() {
        let link = link();
        let full = link.to_link();
        let key = full.split_once("#k=").unwrap().1.to_owned();
        let hand_over = HandOver { link: link.clone(), request_id: "r-1".into() };
        for shown in [format!("{link:?}"), format!("{hand_over:?}")] {
            assert!(!shown.contains(&key), "{shown}");
        }
        let kept = serde_json::to_string(&hand_over).unwrap();
        let back: HandOver = serde_json::from_str(&kept).unwrap();
        assert_eq!(back.link().as_str(), full.as_str());
        assert_eq!(back.request_id(), "r-1");
    }

    #[test]
    fn the_relays_error_code_is_kept_and_bounded() {
        let error = relay_refused(409, br#"{"error":"slot_taken","error_description":"x"}"#);
        assert!(matches!(error, Error::RelayRefused { status: 409, error } if error == "slot_taken"));
        let error = relay_refused(404, b"");
        assert!(matches!(error, Error::RelayRefused { status: 404, error } if error == "box_not_found"));
        let long = format!(r#"{{"error":"{}"}}"#, "e".repeat(500));
        let Error::RelayRefused { error, .. } = relay_refused(400, long.as_bytes()) else { panic!() };
        assert_eq!(error.len(), 64);
    }
}
