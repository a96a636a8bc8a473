//! The tenant key: which school's rows a store handle reads and writes.

use std::fmt;

use crate::error::{Error, Result};

/// The key of one school (tenant) in a database shared by many, such as its BRIN (`00AA`).
///
/// Every row carries it, every query of a store handle names it in its `WHERE`, and a
/// row-level-security policy compares each row with the one the transaction set (`app.tenant`),
/// so a handle opened for one school can neither read nor change another's rows.
///
/// 1 to 63 bytes of ASCII letters, digits, `-`, `_` and `.`, starting with a letter or digit;
/// compared exactly (`00AA` and `00aa` are two tenants).
///
/// ```
/// use schooltas_postgres::{Error, Tenant};
/// let tenant = Tenant::new("00AA")?;
/// assert_eq!(tenant.as_str(), "00AA");
/// assert!(matches!(Tenant::new(""), Err(Error::InvalidTenant { .. })));
/// assert!(matches!(Tenant::new("00AA' OR 1=1"), Err(Error::InvalidTenant { .. })));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Tenant(String);

impl Tenant {
    /// Checks a tenant key.
    pub fn new(key: &str) -> Result<Self> {
        let refuse = |reason| Err(Error::InvalidTenant { reason });
        if key.is_empty() || key.len() > 63 {
            return refuse("a tenant key is 1 to 63 bytes long");
        }
        if !key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')) {
            return refuse("a tenant key holds only ASCII letters, digits, '-', '_' and '.'");
        }
        if !key.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric()) {
            return refuse("a tenant key starts with a letter or a digit");
        }
        Ok(Tenant(key.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tenant({})", self.0)
    }
}
