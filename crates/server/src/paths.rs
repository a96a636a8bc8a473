//! Where each endpoint lives on the wire, derived from the school's identifiers: the
//! credential issuer URL (OpenID4VCI 1.0 §12.2.2, RFC 8414 §3.1 path insertion), the did:web
//! DID (did:web's `/.well-known/did.json` or `/<path>/did.json`) and the status lists' base
//! URI.

use schooltas_issuer::authorization::{AUTHORIZE_PATH, PAR_PATH};
use schooltas_issuer::oid4vci::{CREDENTIAL_PATH, NONCE_PATH, TOKEN_PATH};

use crate::error::Error;

/// The OpenID4VCI 1.0 §12.2.2 well-known suffix for credential issuer metadata.
pub const CREDENTIAL_ISSUER_WELL_KNOWN: &str = "/.well-known/openid-credential-issuer";
/// The RFC 8414 §3 well-known suffix for OAuth authorization server metadata.
pub const AUTHORIZATION_SERVER_WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
/// The SD-JWT VC §5 well-known suffix for JWT VC Issuer Metadata.
pub const JWT_VC_ISSUER_WELL_KNOWN: &str = "/.well-known/jwt-vc-issuer";
/// Where offers by reference are served, under the issuer's path: `<path>/offers/<id>`.
pub const OFFERS_PATH: &str = "/offers";

/// The HTTP paths of every public endpoint of one school's issuer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerPaths {
    /// `GET`: credential issuer metadata (`/.well-known/openid-credential-issuer<path>`).
    pub credential_issuer_metadata: String,
    /// `GET`: authorization server metadata (`/.well-known/oauth-authorization-server<path>`).
    pub authorization_server_metadata: String,
    /// `POST`: the token endpoint (`<path>/token`).
    pub token: String,
    /// `POST`: the nonce endpoint (`<path>/nonce`).
    pub nonce: String,
    /// `POST`: the credential endpoint (`<path>/credential`).
    pub credential: String,
    /// `POST`: the pushed authorization request endpoint (`<path>/par`, RFC 9126), served
    /// when the service has an [authorization portal](crate::AuthorizationPortal).
    pub par: String,
    /// `GET`: the authorization endpoint (`<path>/authorize`), served with the PAR endpoint.
    pub authorize: String,
    /// `GET <offers>/<id>`: credential offers by reference (`<path>/offers`).
    pub offers: String,
    /// `GET <status>/<purpose>/<n>`: status list tokens (the path of the status policy's base
    /// URI), when that base URI is on the issuer's host.
    pub status: Option<String>,
    /// `GET`: the did:web document, when the school's DID is a did:web on the issuer's host.
    pub did_document: Option<String>,
    /// `GET`: the JWT VC Issuer Metadata (`/.well-known/jwt-vc-issuer<path>`, SD-JWT VC §5),
    /// when the school names itself by its `https` identifier (the EU profile).
    pub jwt_vc_issuer_metadata: Option<String>,
    /// `GET`: the catalog's Type Metadata documents, each at the path of its `vct` URL
    /// (SD-JWT VC §6.3.1), so the host the `vct` names can be any Schooltas server.
    pub type_metadata: Vec<String>,
}

impl IssuerPaths {
    /// The paths for a school with credential issuer `issuer_url` (an https URL, no trailing
    /// slash), DID `did` and status base URI `status_base_uri`.
    ///
    /// A did:web or status base URI on another host than the issuer's is not served here
    /// (the school publishes it elsewhere). Paths outside `[A-Za-z0-9._~-]` segments, and
    /// paths that would shadow each other, are refused: the service serves exactly the
    /// locations its metadata names, or it does not start.
    pub fn new(issuer_url: &str, did: &schooltas_did::Did, status_base_uri: &str) -> Result<Self, Error> {
        let (host, path) = split_https(issuer_url)
            .ok_or_else(|| Error::UnservablePath { what: "credential issuer", reason: "not an https URL".into() })?;
        check_path("credential issuer", path)?;
        let status = match split_https(status_base_uri) {
            Some((status_host, status_path)) if status_host.eq_ignore_ascii_case(host) => {
                check_path("status list base URI", status_path)?;
                if status_path.is_empty() {
                    return Err(Error::UnservablePath {
                        what: "status list base URI",
                        reason: "the status lists need a path of their own, such as /status".into(),
                    });
                }
                Some(status_path.to_owned())
            }
            _ => None,
        };
        let did_document = match did.method() {
            "web" => {
                let url = schooltas_did::did_web::url_for(did)
                    .map_err(|error| Error::UnservablePath { what: "did:web document", reason: error.to_string() })?;
                match split_https(&url) {
                    Some((did_host, did_path)) if did_host.eq_ignore_ascii_case(host) => {
                        check_path("did:web document", did_path)?;
                        Some(did_path.to_owned())
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        let paths = IssuerPaths {
            credential_issuer_metadata: format!("{CREDENTIAL_ISSUER_WELL_KNOWN}{path}"),
            authorization_server_metadata: format!("{AUTHORIZATION_SERVER_WELL_KNOWN}{path}"),
            token: format!("{path}{TOKEN_PATH}"),
            nonce: format!("{path}{NONCE_PATH}"),
            credential: format!("{path}{CREDENTIAL_PATH}"),
            par: format!("{path}{PAR_PATH}"),
            authorize: format!("{path}{AUTHORIZE_PATH}"),
            offers: format!("{path}{OFFERS_PATH}"),
            status,
            did_document,
            jwt_vc_issuer_metadata: None,
            type_metadata: Vec::new(),
        };
        paths.check_disjoint()?;
        Ok(paths)
    }

    /// Adds the EU profile's JWT VC Issuer Metadata for `issuer_url` and the Type Metadata of
    /// each `vct` (https URLs; others are skipped), refusing paths that would shadow others.
    pub fn with_published_metadata<'a>(
        mut self,
        issuer_url: &str,
        jwt_vc_issuer: bool,
        vcts: impl IntoIterator<Item = &'a str>,
    ) -> Result<Self, Error> {
        if jwt_vc_issuer {
            let (_, path) = split_https(issuer_url).ok_or_else(|| Error::UnservablePath {
                what: "credential issuer",
                reason: "not an https URL".into(),
            })?;
            self.jwt_vc_issuer_metadata = Some(format!("{JWT_VC_ISSUER_WELL_KNOWN}{path}"));
        }
        for vct in vcts {
            if let Some((_, path)) = split_https(vct) {
                check_path("type metadata (vct)", path)?;
                if path.is_empty() {
                    return Err(Error::UnservablePath {
                        what: "type metadata (vct)",
                        reason: "a vct URL needs a path".into(),
                    });
                }
                self.type_metadata.push(path.to_owned());
            }
        }
        self.check_disjoint()?;
        Ok(self)
    }

    fn all(&self) -> Vec<&str> {
        let mut all = vec![
            self.credential_issuer_metadata.as_str(),
            self.authorization_server_metadata.as_str(),
            self.token.as_str(),
            self.nonce.as_str(),
            self.credential.as_str(),
            self.par.as_str(),
            self.authorize.as_str(),
            self.offers.as_str(),
        ];
        all.extend(self.status.as_deref());
        all.extend(self.did_document.as_deref());
        all.extend(self.jwt_vc_issuer_metadata.as_deref());
        all.extend(self.type_metadata.iter().map(String::as_str));
        all
    }

    /// No path equals another or lies under it (the offers and status paths take a suffix).
    fn check_disjoint(&self) -> Result<(), Error> {
        let all = self.all();
        for (n, first) in all.iter().enumerate() {
            for second in &all[n + 1..] {
                let nested = |a: &str, b: &str| a == b || a.strip_prefix(b).is_some_and(|rest| rest.starts_with('/'));
                if nested(first, second) || nested(second, first) {
                    return Err(Error::PathConflict { first: (*first).to_owned(), second: (*second).to_owned() });
                }
            }
        }
        Ok(())
    }
}

/// `https://host[:port]/path` → (`host[:port]`, `/path` or empty).
pub(crate) fn split_https(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("https://")?;
    let (host, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    (!host.is_empty()).then_some((host, path.trim_end_matches('/')))
}

/// A path the router can hold literally: `/seg/seg…` with unreserved characters only (no
/// percent-encoding, no route syntax such as `{…}` or `*`), no empty, `.` or `..` segment.
fn check_path(what: &'static str, path: &str) -> Result<(), Error> {
    if path.is_empty() {
        return Ok(());
    }
    let Some(segments) = path.strip_prefix('/') else {
        return Err(Error::UnservablePath { what, reason: "the path does not start with /".into() });
    };
    for segment in segments.split('/') {
        let unreserved = segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if segment.is_empty() || segment == "." || segment == ".." || !unreserved {
            return Err(Error::UnservablePath {
                what,
                reason: format!(
                    "the path segment {segment:?} is empty, a dot segment or has characters other than A-Z a-z 0-9 . _ ~ -"
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use schooltas_did::Did;

    fn paths(issuer: &str, did: &str, status: &str) -> Result<IssuerPaths, Error> {
        IssuerPaths::new(issuer, &Did::parse(did).unwrap(), status)
    }

    #[test]
    fn an_issuer_at_the_host_root_uses_the_plain_well_known_paths() {
        let p = paths("https://delinde.example", "did:web:delinde.example", "https://delinde.example/status").unwrap();
        assert_eq!(p.credential_issuer_metadata, "/.well-known/openid-credential-issuer");
        assert_eq!(p.authorization_server_metadata, "/.well-known/oauth-authorization-server");
        assert_eq!(p.token, "/token");
        assert_eq!(p.offers, "/offers");
        assert_eq!((p.par.as_str(), p.authorize.as_str()), ("/par", "/authorize"));
        assert_eq!(p.status.as_deref(), Some("/status"));
        assert_eq!(p.did_document.as_deref(), Some("/.well-known/did.json"));
    }

    #[test]
    fn an_issuer_with_a_path_inserts_the_well_known_segment_before_it() {
        let p = paths(
            "https://scholen.example/12AB00",
            "did:web:scholen.example:12AB00",
            "https://scholen.example/12AB00/status",
        )
        .unwrap();
        // OpenID4VCI 1.0 §12.2.2 and RFC 8414 §3.1: inserted between host and path.
        assert_eq!(p.credential_issuer_metadata, "/.well-known/openid-credential-issuer/12AB00");
        assert_eq!(p.authorization_server_metadata, "/.well-known/oauth-authorization-server/12AB00");
        assert_eq!(p.credential, "/12AB00/credential");
        assert_eq!((p.par.as_str(), p.authorize.as_str()), ("/12AB00/par", "/12AB00/authorize"));
        assert_eq!(p.did_document.as_deref(), Some("/12AB00/did.json"));
    }

    #[test]
    fn documents_on_other_hosts_are_not_served_here() {
        let p = paths("https://delinde.example", "did:web:id.delinde.example", "https://cdn.example/status").unwrap();
        assert_eq!(p.did_document, None);
        assert_eq!(p.status, None);
        let p = paths(
            "https://delinde.example",
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "https://delinde.example/status",
        )
        .unwrap();
        assert_eq!(p.did_document, None);
    }

    #[test]
    fn paths_the_router_cannot_hold_literally_are_refused() {
        for issuer in
            ["https://h.example/{id}", "https://h.example/a%20b", "https://h.example/a//b", "https://h.example/:x"]
        {
            let error = paths(issuer, "did:web:h.example", "https://h.example/status").unwrap_err();
            assert!(matches!(error, Error::UnservablePath { what: "credential issuer", .. }), "{issuer}: {error}");
        }
        let error = paths("https://h.example", "did:web:h.example", "https://h.example").unwrap_err();
        assert!(matches!(error, Error::UnservablePath { what: "status list base URI", .. }), "{error}");
    }

    #[test]
    fn paths_that_shadow_each_other_are_refused() {
        let error = paths("https://h.example", "did:web:h.example", "https://h.example/offers").unwrap_err();
        assert!(matches!(error, Error::PathConflict { .. }), "{error}");
        let error = paths("https://h.example", "did:web:h.example:token", "https://h.example/status").unwrap_err();
        assert!(matches!(error, Error::PathConflict { .. }), "{error}");
    }
}
