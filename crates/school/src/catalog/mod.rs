//! The Schooltas credential catalog: the credential types a school issues, shared by issuer,
//! wallet and verifier — each with its `vct`, its claims (type, required, selectively
//! disclosable, special-category data under GDPR art. 9), Dutch and English labels, default
//! validity and status-list purpose.
//!
//! ```
//! use schooltas_school::catalog::{Catalog, Language};
//! use schooltas_sd_jwt::RandomSalts;
//! use schooltas_sd_jwt::ClaimPath;
//! use schooltas_did::{Algorithm, SigningKey};
//! use serde_json::json;
//!
//! let catalog = Catalog::standard();
//! let enrolment = catalog.get("pupil_enrolment").ok_or("no enrolment type")?;
//! let claims = json!({
//!     "school_name": "Basisschool De Linde", "school_brin": "12AB", "school_location": "00",
//!     "school_year": "2026-2027", "group": "7B", "given_name": "Sanne", "family_name": "de Vries",
//!     "birth_date": "2014-03-01", "age_over_12": true, "age_over_16": false,
//! });
//! let school = SigningKey::generate(Algorithm::EdDsa)?;
//! let issued = enrolment
//!     .builder("did:web:delinde.example", 1_800_000_000, claims.as_object().cloned().unwrap_or_default())?
//!     .issue(&school, &mut RandomSalts)?;
//! assert_eq!(issued.disclosures().len(), 10); // every personal claim selectively disclosable
//! assert_eq!(enrolment.label(&ClaimPath::claim("birth_date"), Language::Nl), Some("Geboortedatum"));
//!
//! // Wrong claims never become a credential.
//! let error = enrolment.validate(json!({"shoe_size": 34}).as_object().ok_or("object")?).unwrap_err();
//! assert!(error.to_string().contains("shoe_size"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod standard;

use serde_json::{Map, Value, json};

use schooltas_sd_jwt::{ClaimPath, PathElement, SdJwtBuilder, Vct};

/// Claims the issuer sets itself (JWT and SD-JWT VC registered claims); validation ignores them.
pub const REGISTERED_CLAIMS: [&str; 9] = ["iss", "iat", "nbf", "exp", "cnf", "vct", "status", "sub", "vct#integrity"];

/// The claims of a representation type that are never selectively disclosable: who the
/// representative is to the child (`relation`), which child (`child_id`, the one-time child
/// link) and until when (`valid_until`).
pub const REPRESENTATION_CLAIMS: [&str; 3] = ["relation", "child_id", "valid_until"];

/// `_sd` arrays of catalog credentials are padded to a multiple of this many digests.
pub const DIGEST_BUCKET: usize = 4;

/// Why a set of claims does not fit a catalog type. Messages name paths and types, never the
/// claim values (personal data).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The catalog has no type with this id or vct.
    #[error("unknown credential type {0}")]
    UnknownType(String),
    /// A claim that the type does not define.
    #[error("claim {path} is not part of credential type {config_id}")]
    UnknownClaim {
        /// The credential type.
        config_id: String,
        /// The claim's path.
        path: String,
    },
    /// A required claim is absent.
    #[error("credential type {config_id} requires claim {path}")]
    MissingClaim {
        /// The credential type.
        config_id: String,
        /// The claim's path.
        path: String,
    },
    /// A claim's value has the wrong type or format.
    #[error("claim {path} of credential type {config_id} must be {expected}")]
    WrongType {
        /// The credential type.
        config_id: String,
        /// The claim's path.
        path: String,
        /// What it must be.
        expected: String,
    },
    /// A second type with the same configuration id or vct.
    #[error("the catalog already has a credential type with {what} {value}")]
    Duplicate {
        /// `id` or `vct`.
        what: &'static str,
        /// The duplicated value.
        value: String,
    },
}

/// The language of a label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Language {
    /// Dutch (`nl-NL`).
    Nl,
    /// English (`en-US`).
    En,
}

impl Language {
    /// The BCP 47 tag used in metadata.
    pub fn locale(self) -> &'static str {
        match self {
            Language::Nl => "nl-NL",
            Language::En => "en-US",
        }
    }
}

/// A text in Dutch and English.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Dutch.
    pub nl: String,
    /// English.
    pub en: String,
}

impl Label {
    /// A label from its Dutch and English text.
    pub fn new(nl: impl Into<String>, en: impl Into<String>) -> Self {
        Label { nl: nl.into(), en: en.into() }
    }

    /// The text in `language`.
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Nl => &self.nl,
            Language::En => &self.en,
        }
    }
}

/// What a claim's value must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimKind {
    /// Any string of at most 1024 bytes.
    String,
    /// A string matching a fixed pattern, checked by [`TextFormat`].
    Text(TextFormat),
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// `true` or `false`.
    Boolean,
    /// An integer.
    Integer,
    /// One of these strings.
    OneOf(Vec<String>),
    /// An object whose members are the nested definitions (their paths extend this one).
    Object,
    /// An array whose elements are all of this kind.
    Array(Box<ClaimKind>),
}

/// Patterns for [`ClaimKind::Text`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextFormat {
    /// A BRIN code: two digits, two capital letters (`12AB`).
    Brin,
    /// Two digits (`00`).
    TwoDigits,
    /// A school year (`2026-2027`, consecutive years).
    SchoolYear,
    /// A DID (`did:method:id`).
    Did,
    /// A lowercase hex SHA-256 digest (64 characters), e.g. of a photo.
    Sha256Hex,
}

/// One claim of a credential type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimDefinition {
    /// Where it sits.
    pub path: ClaimPath,
    /// What its value must be.
    pub kind: ClaimKind,
    /// Whether every credential of the type carries it.
    pub required: bool,
    /// Whether it is selectively disclosable.
    pub disclosable: bool,
    /// Whether it is special-category personal data (GDPR art. 9: health, support needs).
    pub special_category: bool,
    /// Its name for people.
    pub label: Label,
}

/// Whether, and in which status list, a type's credentials get a status entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatusUse {
    /// No status entry (the credential is valid until `exp`).
    None,
    /// An entry in the school's status list for this purpose.
    List(String),
}

/// A credential type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialType {
    id: String,
    vct: Vct,
    name: Label,
    description: Label,
    claims: Vec<ClaimDefinition>,
    default_validity: Option<u64>,
    status: StatusUse,
    representation: bool,
    /// `vct#integrity` of [`Self::type_metadata_json`], computed once (the fields above only
    /// change through builder methods, which reset it).
    integrity: std::sync::OnceLock<String>,
}

impl CredentialType {
    /// A type with configuration `id` (OpenID4VCI `credential_configuration_id`) and `vct`.
    pub fn new(id: impl Into<String>, vct: Vct, name: Label, description: Label) -> Self {
        CredentialType {
            id: id.into(),
            vct,
            name,
            description,
            claims: Vec::new(),
            default_validity: None,
            status: StatusUse::None,
            representation: false,
            integrity: std::sync::OnceLock::new(),
        }
    }

    /// Adds a claim definition.
    pub fn with_claim(mut self, claim: ClaimDefinition) -> Self {
        self.integrity = std::sync::OnceLock::new();
        self.claims.push(claim);
        self
    }

    /// Sets the default validity in seconds.
    pub fn with_validity(mut self, seconds: u64) -> Self {
        self.integrity = std::sync::OnceLock::new();
        self.default_validity = Some(seconds);
        self
    }

    /// Gives the type's credentials a status entry in the list of `purpose`.
    pub fn with_status(mut self, purpose: impl Into<String>) -> Self {
        self.integrity = std::sync::OnceLock::new();
        self.status = StatusUse::List(purpose.into());
        self
    }

    /// Marks the type as representation (someone acting for another, such as guardianship).
    /// The claims that state the representation — [`REPRESENTATION_CLAIMS`]: the relation, the
    /// child link and the validity — are made never selectively disclosable, so a verifier
    /// always sees that a representative acts, for whom and until when (DOMAIN: a
    /// representative acting is never hideable). Every other claim keeps its own flag: the
    /// standard guardianship type makes the parent's DID, the child's birth date and the school
    /// selectively disclosable, and the parent's wallet leaves them out of a guardian approval.
    pub fn representing(mut self) -> Self {
        self.integrity = std::sync::OnceLock::new();
        self.representation = true;
        for claim in &mut self.claims {
            if let Some(PathElement::Key(name)) = claim.path.elements().first()
                && claim.path.elements().len() == 1
                && REPRESENTATION_CLAIMS.contains(&name.as_str())
            {
                claim.disclosable = false;
            }
        }
        self
    }

    /// The claim that carries the one-time child link of a credential of this type: `child_id`
    /// in a representation type (guardianship copy *i* names the child's copy *i*), `sub` in
    /// every other type. The issuer replaces the pupil reference the administration puts there
    /// with a per-copy identifier (see `schooltas-issuer`'s child links).
    pub fn child_link_claim(&self) -> &'static str {
        if self.representation { "child_id" } else { "sub" }
    }

    /// The claim naming the representative in a representation type: `guardian_id` (the
    /// parent's or guardian's DID); `None` for every other type. When the school's
    /// administration leaves it out — a school knows its pupils' guardians, not their wallets'
    /// DIDs — the issuer fills it in each copy with the `did:key` of that copy's holder key, so
    /// the parent's wallet recognises the copy as its own and no two copies share a value.
    pub fn representative_claim(&self) -> Option<&'static str> {
        self.representation.then_some("guardian_id")
    }

    /// The number of digests every `_sd` array of this type's credentials is padded to, per
    /// object level (claim names from the top; empty for the top level): the number of
    /// selectively disclosable claims the type defines at that level (plus `sub` at the top of a
    /// non-representation type), rounded up to a multiple of [`DIGEST_BUCKET`]. So two
    /// credentials of one type show the same number of digests whichever optional claims they
    /// carry (RFC 9901 §4.2.5 decoy digests).
    pub fn digest_padding(&self) -> Vec<(Vec<String>, usize)> {
        let mut levels: Vec<(Vec<String>, usize)> = Vec::new();
        let mut count = |level: Vec<String>| match levels.iter_mut().find(|(l, _)| *l == level) {
            Some(entry) => entry.1 += 1,
            None => levels.push((level, 1)),
        };
        if !self.representation {
            count(Vec::new());
        }
        for claim in self.claims.iter().filter(|claim| claim.disclosable) {
            let names: Option<Vec<String>> = claim
                .path
                .elements()
                .iter()
                .map(|element| match element {
                    PathElement::Key(name) => Some(name.clone()),
                    _ => None,
                })
                .collect();
            // Only object members sit in an `_sd` array; array elements are not padded.
            let Some(mut names) = names else { continue };
            names.pop();
            count(names);
        }
        for (_, size) in &mut levels {
            *size = size.div_ceil(DIGEST_BUCKET).max(1) * DIGEST_BUCKET;
        }
        levels
    }

    /// The configuration id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The `vct`.
    pub fn vct(&self) -> &Vct {
        &self.vct
    }

    /// The SD-JWT VC Type Metadata of this type (draft-ietf-oauth-sd-jwt-vc §6): the names
    /// and descriptions in Dutch and English, and per claim its labels, whether it is
    /// mandatory and whether it is selectively disclosable. Served at the `vct` URL (see
    /// `schooltas_server`), pinned in every credential by `vct#integrity`.
    pub fn type_metadata(&self) -> schooltas_sd_jwt::type_metadata::TypeMetadata {
        use schooltas_sd_jwt::type_metadata::{ClaimMetadata, Disclosability, LocalizedDisplay, TypeMetadata};
        let mut metadata = TypeMetadata::new(self.vct.as_str()).with_name(&self.name.en, &self.description.en);
        for language in [Language::Nl, Language::En] {
            metadata = metadata.with_display(
                LocalizedDisplay::new(language.locale(), self.name.get(language))
                    .with_description(self.description.get(language)),
            );
        }
        for claim in &self.claims {
            let mut entry = ClaimMetadata::new(claim.path.clone())
                .sd(if claim.disclosable { Disclosability::Always } else { Disclosability::Never })
                .with_label(Language::Nl.locale(), &claim.label.nl)
                .with_label(Language::En.locale(), &claim.label.en);
            if claim.required {
                entry = entry.mandatory();
            }
            metadata = metadata.with_claim(entry);
        }
        metadata
    }

    /// [`Self::type_metadata`] as served: the exact bytes `vct#integrity` pins.
    pub fn type_metadata_json(&self) -> String {
        self.type_metadata().to_json()
    }

    /// The `vct#integrity` of this type's metadata (`sha256-…`, W3C SRI).
    pub fn type_metadata_integrity(&self) -> &str {
        self.integrity.get_or_init(|| {
            schooltas_sd_jwt::type_metadata::Integrity::sha256(self.type_metadata_json().as_bytes()).as_str().to_owned()
        })
    }

    /// The display name.
    pub fn name(&self) -> &Label {
        &self.name
    }

    /// The description.
    pub fn description(&self) -> &Label {
        &self.description
    }

    /// The claim definitions.
    pub fn claims(&self) -> &[ClaimDefinition] {
        &self.claims
    }

    /// The default validity in seconds, if the type expires.
    pub fn default_validity(&self) -> Option<u64> {
        self.default_validity
    }

    /// The status use.
    pub fn status(&self) -> &StatusUse {
        &self.status
    }

    /// The status list purpose, if the type has a status entry.
    pub fn status_purpose(&self) -> Option<&str> {
        match &self.status {
            StatusUse::None => None,
            StatusUse::List(purpose) => Some(purpose),
        }
    }

    /// Whether the type represents someone acting for another.
    pub fn is_representation(&self) -> bool {
        self.representation
    }

    /// The definition for `path`; an array element path (`["arrangements", 0]`) finds the
    /// array's definition.
    pub fn claim(&self, path: &ClaimPath) -> Option<&ClaimDefinition> {
        let names: Vec<&PathElement> =
            path.elements().iter().take_while(|e| matches!(e, PathElement::Key(_))).collect();
        self.claims.iter().find(|claim| {
            let elements = claim.path.elements();
            elements.len() == names.len() && elements.iter().zip(&names).all(|(a, b)| a == *b)
        })
    }

    /// The label of the claim at `path` in `language`.
    pub fn label(&self, path: &ClaimPath, language: Language) -> Option<&str> {
        self.claim(path).map(|claim| claim.label.get(language))
    }

    /// Whether the claim at `path` — or anything inside it — is special-category data.
    pub fn is_special_category(&self, path: &ClaimPath) -> bool {
        self.claims
            .iter()
            .any(|claim| claim.special_category && (claim.path.starts_with(path) || path.starts_with(&claim.path)))
    }

    /// The paths of the special-category claims.
    pub fn special_category_paths(&self) -> impl Iterator<Item = &ClaimPath> {
        self.claims.iter().filter(|claim| claim.special_category).map(|claim| &claim.path)
    }

    /// Checks `claims` against the type: no unknown claims (registered JWT/VC claims aside),
    /// every required claim present, every value of its kind.
    pub fn validate(&self, claims: &Map<String, Value>) -> Result<(), CatalogError> {
        self.validate_object(&[], claims)?;
        for claim in self.claims.iter().filter(|claim| claim.required) {
            if lookup(claims, &claim.path).is_none() {
                return Err(CatalogError::MissingClaim { config_id: self.id.clone(), path: dotted(&claim.path) });
            }
        }
        Ok(())
    }

    fn validate_object(&self, prefix: &[PathElement], object: &Map<String, Value>) -> Result<(), CatalogError> {
        for (name, value) in object {
            if prefix.is_empty() && REGISTERED_CLAIMS.contains(&name.as_str()) {
                continue;
            }
            let mut elements = prefix.to_vec();
            elements.push(PathElement::Key(name.clone()));
            let path = ClaimPath::new(elements.clone())
                .map_err(|_| CatalogError::UnknownClaim { config_id: self.id.clone(), path: name.clone() })?;
            let Some(definition) = self.claims.iter().find(|claim| claim.path == path) else {
                return Err(CatalogError::UnknownClaim { config_id: self.id.clone(), path: dotted(&path) });
            };
            self.check_kind(&definition.kind, &path, &elements, value)?;
        }
        Ok(())
    }

    fn check_kind(
        &self,
        kind: &ClaimKind,
        path: &ClaimPath,
        elements: &[PathElement],
        value: &Value,
    ) -> Result<(), CatalogError> {
        let wrong = |expected: &str| CatalogError::WrongType {
            config_id: self.id.clone(),
            path: dotted(path),
            expected: expected.to_owned(),
        };
        match kind {
            ClaimKind::String => match value.as_str() {
                Some(text) if text.len() <= 1024 => Ok(()),
                _ => Err(wrong("a string of at most 1024 bytes")),
            },
            ClaimKind::Text(format) => match value.as_str() {
                Some(text) if format.matches(text) => Ok(()),
                _ => Err(wrong(format.describe())),
            },
            ClaimKind::Date => match value.as_str() {
                Some(text) if is_date(text) => Ok(()),
                _ => Err(wrong("a calendar date written YYYY-MM-DD")),
            },
            ClaimKind::Boolean if value.is_boolean() => Ok(()),
            ClaimKind::Boolean => Err(wrong("true or false")),
            ClaimKind::Integer if value.is_i64() || value.is_u64() => Ok(()),
            ClaimKind::Integer => Err(wrong("an integer")),
            ClaimKind::OneOf(options) => match value.as_str() {
                Some(text) if options.iter().any(|option| option == text) => Ok(()),
                _ => Err(wrong(&format!("one of {}", options.join(", ")))),
            },
            ClaimKind::Object => match value.as_object() {
                Some(object) => self.validate_object(elements, object),
                None => Err(wrong("an object")),
            },
            ClaimKind::Array(element) => match value.as_array() {
                Some(items) if !items.is_empty() => {
                    items.iter().try_for_each(|item| self.check_kind(element, path, elements, item))
                }
                _ => Err(wrong("a non-empty array")),
            },
        }
    }

    /// Validates `claims`, then returns an SD-JWT VC builder for them with `iss`, `iat`, the
    /// `vct`, `exp` from the default validity, and every disclosable claim marked — ready for
    /// the caller to add the holder key and status and to sign.
    ///
    /// A `sub` claim (the copy's one-time child link, which ties a guardian approval to the
    /// child) is selectively disclosable too, except in a representation type. Every `_sd`
    /// array is padded with decoy digests to [`Self::digest_padding`].
    pub fn builder(
        &self,
        issuer: &str,
        issued_at: i64,
        claims: Map<String, Value>,
    ) -> Result<SdJwtBuilder, crate::Error> {
        self.validate(&claims)?;
        let present: Vec<ClaimPath> = self
            .claims
            .iter()
            .filter(|c| c.disclosable && lookup(&claims, &c.path).is_some())
            .map(|c| c.path.clone())
            .collect();
        let claims_have_sub = claims.get("sub").is_some_and(Value::is_string);
        let mut claims = claims;
        claims.insert("vct#integrity".into(), Value::String(self.type_metadata_integrity().to_owned()));
        let mut builder = SdJwtBuilder::sd_jwt_vc(&self.vct, issuer, issued_at, claims);
        if let Some(validity) = self.default_validity {
            builder = builder.expires_at(issued_at.saturating_add(i64::try_from(validity).unwrap_or(i64::MAX)));
        }
        if claims_have_sub && !self.representation {
            builder = builder.disclosable(ClaimPath::claim("sub"));
        }
        for (level, size) in self.digest_padding() {
            let names: Vec<&str> = level.iter().map(String::as_str).collect();
            builder = builder.pad_digests(&names, size);
        }
        // Deepest first does not matter to the builder; it handles nesting.
        for path in present {
            builder = builder.disclosable(path);
        }
        Ok(builder)
    }

    /// The type's `credential_metadata` for OpenID4VCI issuer metadata (`display` in both
    /// languages, `claims` with `path`, `mandatory` and `display`).
    pub fn credential_metadata(&self) -> Value {
        let display = |label: &Label, description: Option<&Label>| -> Vec<Value> {
            [Language::Nl, Language::En]
                .into_iter()
                .map(|language| {
                    let mut entry = json!({ "name": label.get(language), "locale": language.locale() });
                    if let Some(description) = description {
                        entry["description"] = Value::String(description.get(language).to_owned());
                    }
                    entry
                })
                .collect()
        };
        let claims: Vec<Value> = self
            .claims
            .iter()
            .map(|claim| {
                json!({
                    "path": claim.path.to_json(),
                    "mandatory": claim.required,
                    "display": display(&claim.label, None),
                })
            })
            .collect();
        json!({ "display": display(&self.name, Some(&self.description)), "claims": claims })
    }
}

impl TextFormat {
    fn matches(self, text: &str) -> bool {
        let bytes = text.as_bytes();
        match self {
            TextFormat::Brin => {
                bytes.len() == 4
                    && bytes[..2].iter().all(u8::is_ascii_digit)
                    && bytes[2..].iter().all(u8::is_ascii_uppercase)
            }
            TextFormat::TwoDigits => bytes.len() == 2 && bytes.iter().all(u8::is_ascii_digit),
            TextFormat::SchoolYear => {
                let parse = |s: &str| {
                    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u32>().ok()).flatten()
                };
                match text.split_once('-') {
                    Some((first, second)) => matches!((parse(first), parse(second)), (Some(a), Some(b)) if b == a + 1),
                    None => false,
                }
            }
            TextFormat::Did => schooltas_did::Did::parse(text).is_ok(),
            TextFormat::Sha256Hex => {
                bytes.len() == 64 && bytes.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            }
        }
    }

    fn describe(self) -> &'static str {
        match self {
            TextFormat::Brin => "a BRIN code: two digits and two capital letters",
            TextFormat::TwoDigits => "two digits",
            TextFormat::SchoolYear => "a school year such as 2026-2027",
            TextFormat::Did => "a DID",
            TextFormat::Sha256Hex => "a SHA-256 digest in lowercase hex",
        }
    }
}

/// `school.brin`, `arrangements.0`, `nationalities.*`: how paths read in messages.
fn dotted(path: &ClaimPath) -> String {
    let parts: Vec<String> = path
        .elements()
        .iter()
        .map(|element| match element {
            PathElement::Key(name) => name.clone(),
            PathElement::Index(index) => index.to_string(),
            PathElement::AllElements => "*".to_owned(),
        })
        .collect();
    parts.join(".")
}

fn lookup<'a>(claims: &'a Map<String, Value>, path: &ClaimPath) -> Option<&'a Value> {
    let mut elements = path.elements().iter();
    let Some(PathElement::Key(first)) = elements.next() else {
        return None;
    };
    let mut value = claims.get(first)?;
    for element in elements {
        value = match element {
            PathElement::Key(name) => value.as_object()?.get(name)?,
            _ => return None,
        };
    }
    Some(value)
}

/// A real calendar date `YYYY-MM-DD` (proleptic Gregorian, years 1900–2199).
fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let number = |range: std::ops::Range<usize>| {
        let part = &text[range];
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse::<u32>().ok()).flatten()
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..2200).contains(&year) && (1..=days).contains(&day)
}

/// A set of credential types, by configuration id and by `vct`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalog {
    types: Vec<CredentialType>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// The built-in Schooltas types: pupil enrolment, guardianship, learning results, school
    /// advice, support needs, transfer dossier, consent receipt and achievement.
    pub fn standard() -> Self {
        Catalog { types: standard::types() }
    }

    /// Adds a type, refusing a duplicate id or `vct`.
    pub fn insert(&mut self, credential_type: CredentialType) -> Result<(), CatalogError> {
        if self.get(credential_type.id()).is_some() {
            return Err(CatalogError::Duplicate { what: "id", value: credential_type.id.clone() });
        }
        if self.by_vct(credential_type.vct()).is_some() {
            return Err(CatalogError::Duplicate { what: "vct", value: credential_type.vct.to_string() });
        }
        self.types.push(credential_type);
        Ok(())
    }

    /// The type with this configuration id.
    pub fn get(&self, id: &str) -> Option<&CredentialType> {
        self.types.iter().find(|t| t.id == id)
    }

    /// The type with this `vct`.
    pub fn by_vct(&self, vct: &Vct) -> Option<&CredentialType> {
        self.types.iter().find(|t| &t.vct == vct)
    }

    /// Every type.
    pub fn iter(&self) -> impl Iterator<Item = &CredentialType> {
        self.types.iter()
    }
}
