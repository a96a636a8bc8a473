//! The subject of a certificate: organisation (O) and common name (CN), checked once here so
//! that issuance never writes a name an EU verifier would refuse to display.

use crate::X509Error;

/// RFC 5280 Appendix A upper bounds `ub-organization-name` and `ub-common-name`.
const MAX_NAME_LEN: usize = 64;

/// A certificate subject: `O=<organization>, CN=<common_name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    organization: String,
    common_name: String,
}

impl Subject {
    /// A subject with organisation `organization` and common name `common_name`: each 1 to 64
    /// characters, no control characters, not only spaces.
    pub fn new(organization: &str, common_name: &str) -> Result<Self, X509Error> {
        check_name("organization", organization)?;
        check_name("common_name", common_name)?;
        Ok(Subject { organization: organization.to_owned(), common_name: common_name.to_owned() })
    }

    /// The organisation (O).
    pub fn organization(&self) -> &str {
        &self.organization
    }

    /// The common name (CN).
    pub fn common_name(&self) -> &str {
        &self.common_name
    }

    #[cfg(feature = "issue")]
    pub(crate) fn to_distinguished_name(&self) -> rcgen::DistinguishedName {
        let mut name = rcgen::DistinguishedName::new();
        name.push(rcgen::DnType::OrganizationName, self.organization.as_str());
        name.push(rcgen::DnType::CommonName, self.common_name.as_str());
        name
    }
}

fn check_name(field: &'static str, value: &str) -> Result<(), X509Error> {
    if value.trim().is_empty() {
        return Err(X509Error::InvalidSubject { field, reason: "empty" });
    }
    if value.chars().count() > MAX_NAME_LEN {
        return Err(X509Error::InvalidSubject { field, reason: "longer than 64 characters" });
    }
    if value.chars().any(char::is_control) {
        return Err(X509Error::InvalidSubject { field, reason: "contains control characters" });
    }
    Ok(())
}
