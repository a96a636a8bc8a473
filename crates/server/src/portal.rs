//! The school's portal in the authorization code flow (OpenID4VCI 1.0 §5, HAIP 1.0 §4): a
//! parent who starts at the portal is sent by the wallet's browser to `GET <issuer>/authorize`;
//! the service asks the [`AuthorizationPortal`] where the browser goes next (`303`: the portal's
//! login, with a one-time handle), the portal logs the parent in and answers with
//! [`IssuerService::complete_authorization`] (in process) or `POST
//! /admin/authorizations/<handle>` (over the staff listener), and sends the browser on to the
//! location it gets back: the wallet's redirect URI with the code.
//!
//! Without a portal the flow is off: the metadata does not name it and `/par` and `/authorize`
//! answer 404.

use std::fmt;
use std::sync::{Arc, PoisonError};

use schooltas_issuer::AuthorizationStart;
use schooltas_issuer::authorization::AuthorizationRedirect;
use schooltas_issuer::store::IssuerStore;

use crate::error::{Error, Result};
use crate::service::{Documents, IssuerService};

/// Where the school's portal takes over from the authorization endpoint.
pub trait AuthorizationPortal: Send + Sync {
    /// The URL to send the browser to (with `303 See Other`) for the authorization `start`:
    /// the portal's login, carrying [`AuthorizationStart::handle`] so the portal can answer.
    fn login_location(&self, start: &AuthorizationStart) -> String;
}

/// A portal at a fixed login URL: the browser goes to `<url>?authorization=<handle>` (or
/// `&authorization=` when the URL has a query).
///
/// ```
/// use schooltas_server::RedirectPortal;
/// assert!(RedirectPortal::new("https://portal.delinde.example/login").is_ok());
/// assert!(RedirectPortal::new("http://portal.delinde.example/login").is_err());
/// ```
#[derive(Clone)]
pub struct RedirectPortal {
    login_url: String,
}

impl RedirectPortal {
    /// The portal whose login page is `login_url` (an `https` URL without fragment).
    pub fn new(login_url: impl Into<String>) -> Result<Self> {
        let login_url = login_url.into();
        let host = login_url.strip_prefix("https://").and_then(|rest| rest.split(['/', '?']).next());
        if host.is_none_or(str::is_empty) || login_url.contains(['#', ' ']) {
            return Err(Error::UnservablePath {
                what: "portal login URL",
                reason: "it must be an https URL with a host and no fragment".into(),
            });
        }
        Ok(RedirectPortal { login_url })
    }
}

impl fmt::Debug for RedirectPortal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedirectPortal").field("login_url", &self.login_url).finish()
    }
}

impl AuthorizationPortal for RedirectPortal {
    fn login_location(&self, start: &AuthorizationStart) -> String {
        let separator = match self.login_url.split_once('?') {
            Some((_, "")) => "",
            Some(_) => "&",
            None => "?",
        };
        let query = schooltas_oid4vc::form::encode(&[("authorization", &start.handle)]);
        format!("{}{separator}{query}", self.login_url)
    }
}

impl<S: IssuerStore + 'static> IssuerService<S> {
    /// Turns the authorization code flow on with `portal` logging parents in: the metadata
    /// names the PAR and authorization endpoints, and the [`router`](Self::router) serves
    /// them. The issuer's own [`AuthorizationPolicy`](schooltas_issuer::AuthorizationPolicy)
    /// is kept when it set one, else the default is used. Set it before the service is cloned
    /// or served ([`Error::ConfiguredTooLate`] after).
    pub fn with_authorization_portal(mut self, portal: impl AuthorizationPortal + 'static) -> Result<Self> {
        let shared =
            Arc::get_mut(&mut self.shared).ok_or(Error::ConfiguredTooLate { what: "the authorization portal" })?;
        let policy = shared.authorization_policy.unwrap_or_default();
        let issuer = shared.issuer.get_mut().unwrap_or_else(PoisonError::into_inner);
        issuer.set_authorization_code_flow(Some(policy));
        *shared.documents.get_mut().unwrap_or_else(PoisonError::into_inner) = Arc::new(Documents::of(issuer));
        shared.portal = Some(Arc::new(portal));
        Ok(self)
    }

    /// Whether the authorization code flow is on (a portal is set).
    pub fn has_authorization_portal(&self) -> bool {
        self.shared.portal.is_some()
    }

    /// The portal's yes for the authorization under `handle`: the person it logged in is
    /// `subject_ref`, approving `config_ids` of what was asked (`None`: all). Returns where
    /// to send the browser (see [`schooltas_issuer::Issuer::complete_authorization`]). Blocks
    /// on the store.
    pub fn complete_authorization(
        &self,
        handle: &str,
        subject_ref: &str,
        config_ids: Option<&[String]>,
    ) -> Result<AuthorizationRedirect> {
        let now = self.shared.now();
        Ok(self.shared.issuer().complete_authorization(handle, subject_ref, config_ids, now)?)
    }

    /// The portal's no for the authorization under `handle`: where to send the browser
    /// (`access_denied` to the wallet). Blocks on the store.
    pub fn deny_authorization(&self, handle: &str) -> Result<AuthorizationRedirect> {
        let now = self.shared.now();
        Ok(self.shared.issuer().deny_authorization(handle, now)?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use zeroize::Zeroizing;

    fn start(handle: &str) -> AuthorizationStart {
        AuthorizationStart {
            handle: Zeroizing::new(handle.to_owned()),
            client_id: "c".into(),
            redirect_uri: "https://w.example/cb".into(),
            config_ids: vec![],
            issuer_state: None,
            expires_at: 0,
        }
    }

    #[test]
    fn the_handle_is_appended_to_the_login_urls_query() {
        let plain = RedirectPortal::new("https://portal.example/login").unwrap();
        assert_eq!(plain.login_location(&start("h-1")), "https://portal.example/login?authorization=h-1");
        let with_query = RedirectPortal::new("https://portal.example/login?school=12AB").unwrap();
        assert_eq!(
            with_query.login_location(&start("h-1")),
            "https://portal.example/login?school=12AB&authorization=h-1"
        );
        for bad in ["http://portal.example/login", "https:///login", "https://portal.example/login#top", "portal"] {
            assert!(
                matches!(RedirectPortal::new(bad), Err(Error::UnservablePath { what: "portal login URL", .. })),
                "{bad}"
            );
        }
    }
}
