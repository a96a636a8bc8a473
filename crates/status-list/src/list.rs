//! The status list itself: a packed array of 1, 2, 4 or 8-bit entries (draft §4).

use std::fmt;

use serde_json::{Map, Value};

use crate::{Error, Result};

/// How many bits each entry of a status list holds (draft §4.1 step 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bits {
    /// 1 bit: VALID / INVALID.
    One = 1,
    /// 2 bits: up to 4 status types (VALID, INVALID, SUSPENDED, one application-specific).
    Two = 2,
    /// 4 bits: up to 16 status types.
    Four = 4,
    /// 8 bits: up to 256 status types.
    Eight = 8,
}

impl Bits {
    /// `1`, `2`, `4` or `8`; any other value is refused.
    pub fn new(bits: u64) -> Result<Self> {
        match bits {
            1 => Ok(Bits::One),
            2 => Ok(Bits::Two),
            4 => Ok(Bits::Four),
            8 => Ok(Bits::Eight),
            other => Err(invalid(format!("bits is {other}; it must be 1, 2, 4 or 8"))),
        }
    }

    /// The smallest width that holds `value`.
    pub fn for_value(value: StatusValue) -> Self {
        match value.0 {
            0..=1 => Bits::One,
            2..=3 => Bits::Two,
            4..=15 => Bits::Four,
            _ => Bits::Eight,
        }
    }

    /// The number of bits.
    pub fn get(self) -> u8 {
        self as u8
    }

    /// Entries per byte: 8, 4, 2 or 1.
    fn per_byte(self) -> usize {
        8 / self as usize
    }

    fn mask(self) -> u8 {
        match self {
            Bits::Eight => 0xff,
            other => (1u8 << other as u8) - 1,
        }
    }
}

/// The status of one referenced token (draft §7): a number from 0 to 255.
///
/// ```
/// use schooltas_status_list::StatusValue;
/// assert_eq!(StatusValue::INVALID.to_string(), "INVALID");
/// assert!(StatusValue::VALID.is_valid());
/// assert_eq!(StatusValue::new(0x03).to_string(), "application-specific status 0x03");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusValue(u8);

impl StatusValue {
    /// `0x00`: the token is valid.
    pub const VALID: StatusValue = StatusValue(0x00);
    /// `0x01`: revoked, annulled, taken back — permanent.
    pub const INVALID: StatusValue = StatusValue(0x01);
    /// `0x02`: temporarily invalid; may be reinstated.
    pub const SUSPENDED: StatusValue = StatusValue(0x02);

    /// Any status type value.
    pub const fn new(value: u8) -> Self {
        StatusValue(value)
    }

    /// The numeric value.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// Whether this is `VALID`.
    pub const fn is_valid(self) -> bool {
        self.0 == 0
    }

    /// Whether the draft reserves this value for applications (`0x03`, `0x0C`–`0x0F`).
    pub const fn is_application_specific(self) -> bool {
        matches!(self.0, 0x03 | 0x0c..=0x0f)
    }
}

impl fmt::Display for StatusValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0x00 => f.write_str("VALID"),
            0x01 => f.write_str("INVALID"),
            0x02 => f.write_str("SUSPENDED"),
            value if self.is_application_specific() => write!(f, "application-specific status {value:#04x}"),
            value => write!(f, "unregistered status {value:#04x}"),
        }
    }
}

impl fmt::Debug for StatusValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StatusValue({:#04x} {self})", self.0)
    }
}

/// Limits on what a decoder accepts, so a hostile status list cannot exhaust memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeLimits {
    /// The longest base64url `lst` string accepted.
    pub max_encoded_len: usize,
    /// The largest decompressed byte array accepted. A few hundred bytes of DEFLATE can claim
    /// gigabytes; inflation stops at this size.
    pub max_decompressed_len: usize,
}

impl Default for DecodeLimits {
    /// 8 MiB encoded, 16 MiB decompressed (2^27 entries at 1 bit, 2^24 at 8 bits).
    fn default() -> Self {
        DecodeLimits { max_encoded_len: 8 << 20, max_decompressed_len: 16 << 20 }
    }
}

/// A status list: `bits` per entry, entries packed from the least significant bit of each byte
/// (draft §4.1).
///
/// ```
/// use schooltas_status_list::{Bits, DecodeLimits, StatusList, StatusValue};
/// let mut list = StatusList::new(Bits::Two, 1 << 16)?;
/// list.set(4_711, StatusValue::SUSPENDED)?;
/// let json = list.to_json();
/// let decoded = StatusList::from_json(&json, &DecodeLimits::default())?;
/// assert_eq!(decoded.get(4_711)?, StatusValue::SUSPENDED);
/// assert_eq!(decoded.get(4_712)?, StatusValue::VALID);
/// # Ok::<(), schooltas_status_list::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: Bits,
    bytes: Vec<u8>,
    aggregation_uri: Option<String>,
}

impl StatusList {
    /// A list of at least `len` entries, all `VALID` (the byte array is rounded up to whole bytes).
    pub fn new(bits: Bits, len: usize) -> Result<Self> {
        if len == 0 {
            return Err(invalid("a status list needs at least one entry".into()));
        }
        Ok(Self::from_bytes(bits, vec![0; len.div_ceil(bits.per_byte())]))
    }

    /// A list over an already packed byte array.
    pub fn from_bytes(bits: Bits, bytes: Vec<u8>) -> Self {
        StatusList { bits, bytes, aggregation_uri: None }
    }

    /// Sets the `aggregation_uri` member (draft §9).
    pub fn with_aggregation_uri(mut self, uri: impl Into<String>) -> Self {
        self.aggregation_uri = Some(uri.into());
        self
    }

    /// Bits per entry.
    pub fn bits(&self) -> Bits {
        self.bits
    }

    /// The number of entries the list holds.
    pub fn len(&self) -> usize {
        self.bytes.len() * self.bits.per_byte()
    }

    /// Whether the list holds no entries (only a decoded empty `lst` can be empty).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The packed byte array, uncompressed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The `aggregation_uri` member, when present.
    pub fn aggregation_uri(&self) -> Option<&str> {
        self.aggregation_uri.as_deref()
    }

    /// The status at `index`. An index beyond the list is an error: the draft (§8.3 step 6)
    /// says no statement can be made, and the referenced token must be rejected.
    pub fn get(&self, index: u64) -> Result<StatusValue> {
        let (byte, shift) = self.locate(index)?;
        Ok(StatusValue((self.bytes[byte] >> shift) & self.bits.mask()))
    }

    /// Sets the status at `index`. The value must fit in the list's bits.
    pub fn set(&mut self, index: u64, value: StatusValue) -> Result<()> {
        if value.0 > self.bits.mask() {
            return Err(Error::StatusValueTooWide { value: value.0, bits: self.bits.get() });
        }
        let (byte, shift) = self.locate(index)?;
        let mask = self.bits.mask() << shift;
        self.bytes[byte] = (self.bytes[byte] & !mask) | (value.0 << shift);
        Ok(())
    }

    /// The indices whose status is not `VALID`, with their status.
    pub fn non_valid(&self) -> impl Iterator<Item = (u64, StatusValue)> + '_ {
        let per_byte = self.bits.per_byte();
        self.bytes.iter().enumerate().filter(|(_, byte)| **byte != 0).flat_map(move |(at, byte)| {
            (0..per_byte).filter_map(move |slot| {
                let value = (byte >> (slot * self.bits as usize)) & self.bits.mask();
                (value != 0).then_some(((at * per_byte + slot) as u64, StatusValue(value)))
            })
        })
    }

    fn locate(&self, index: u64) -> Result<(usize, usize)> {
        let out_of_range = || Error::StatusIndexOutOfRange { index, len: self.len() };
        let index = usize::try_from(index).map_err(|_| out_of_range())?;
        let per_byte = self.bits.per_byte();
        let byte = index / per_byte;
        if byte >= self.bytes.len() {
            return Err(out_of_range());
        }
        Ok((byte, (index % per_byte) * self.bits as usize))
    }

    /// The byte array compressed with DEFLATE in the ZLIB format at the highest level
    /// (draft §4.1 step 4).
    pub fn compress(&self) -> Vec<u8> {
        miniz_oxide::deflate::compress_to_vec_zlib(&self.bytes, 10)
    }

    /// Inflates a ZLIB byte array, stopping at `limits.max_decompressed_len`.
    pub fn decompress(bits: Bits, compressed: &[u8], limits: &DecodeLimits) -> Result<Self> {
        let bytes = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(compressed, limits.max_decompressed_len)
            .map_err(|error| match error.status {
                miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                    invalid(format!("lst inflates to more than {} bytes, the limit", limits.max_decompressed_len))
                }
                status => invalid(format!("lst is not valid ZLIB/DEFLATE data ({status:?})")),
            })?;
        Ok(Self::from_bytes(bits, bytes))
    }

    /// The JSON form (draft §4.2): `{"bits": …, "lst": "<base64url of the compressed bytes>"}`.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("bits".into(), Value::from(self.bits.get()));
        object.insert("lst".into(), Value::String(schooltas_did::base64url::encode(self.compress())));
        if let Some(uri) = &self.aggregation_uri {
            object.insert("aggregation_uri".into(), Value::String(uri.clone()));
        }
        Value::Object(object)
    }

    /// Reads the JSON form (draft §4.2), strictly: `bits` one of 1, 2, 4, 8; `lst` unpadded
    /// base64url of ZLIB data within `limits`; `aggregation_uri`, when present, a string.
    pub fn from_json(value: &Value, limits: &DecodeLimits) -> Result<Self> {
        let object = value.as_object().ok_or_else(|| invalid("status_list is not a JSON object".into()))?;
        let bits = object.get("bits").ok_or_else(|| invalid("bits is missing".into()))?;
        let bits = Bits::new(bits.as_u64().ok_or_else(|| invalid("bits is not a non-negative integer".into()))?)?;
        let lst = object.get("lst").ok_or_else(|| invalid("lst is missing".into()))?;
        let lst = lst.as_str().ok_or_else(|| invalid("lst is not a string".into()))?;
        if lst.len() > limits.max_encoded_len {
            return Err(invalid(format!("lst is {} bytes long; the limit is {}", lst.len(), limits.max_encoded_len)));
        }
        let compressed =
            schooltas_did::base64url::decode(lst).ok_or_else(|| invalid("lst is not unpadded base64url".into()))?;
        let mut list = Self::decompress(bits, &compressed, limits)?;
        if let Some(uri) = object.get("aggregation_uri") {
            let uri = uri.as_str().ok_or_else(|| invalid("aggregation_uri is not a string".into()))?;
            list.aggregation_uri = Some(uri.to_owned());
        }
        Ok(list)
    }
}

impl fmt::Debug for StatusList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusList")
            .field("bits", &self.bits.get())
            .field("len", &self.len())
            .field("aggregation_uri", &self.aggregation_uri)
            .finish()
    }
}

pub(super) fn invalid(reason: String) -> Error {
    Error::InvalidStatusList { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_from_the_least_significant_bit() {
        let mut list = StatusList::new(Bits::Two, 12).unwrap();
        for (index, value) in [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3].into_iter().enumerate() {
            list.set(index as u64, StatusValue::new(value)).unwrap();
        }
        assert_eq!(list.as_bytes(), [0xc9, 0x44, 0xf9]);
    }

    #[test]
    fn setting_again_overwrites_only_that_entry() {
        let mut list = StatusList::new(Bits::Four, 4).unwrap();
        list.set(1, StatusValue::new(0xf)).unwrap();
        list.set(0, StatusValue::new(0x5)).unwrap();
        list.set(1, StatusValue::SUSPENDED).unwrap();
        assert_eq!(list.as_bytes(), [0x25, 0x00]);
        assert_eq!(list.non_valid().collect::<Vec<_>>(), [(0, StatusValue::new(5)), (1, StatusValue::SUSPENDED)]);
    }

    #[test]
    fn refuses_values_wider_than_the_list() {
        let mut list = StatusList::new(Bits::One, 8).unwrap();
        assert!(matches!(list.set(0, StatusValue::SUSPENDED), Err(Error::StatusValueTooWide { value: 2, bits: 1 })));
        assert_eq!(Bits::for_value(StatusValue::SUSPENDED), Bits::Two);
        assert_eq!(Bits::for_value(StatusValue::new(16)), Bits::Eight);
    }

    #[test]
    fn refuses_indices_beyond_the_list() {
        let list = StatusList::new(Bits::Eight, 3).unwrap();
        assert!(list.get(2).is_ok());
        assert!(matches!(list.get(3), Err(Error::StatusIndexOutOfRange { index: 3, len: 3 })));
        assert!(matches!(list.get(u64::MAX), Err(Error::StatusIndexOutOfRange { .. })));
        assert!(StatusList::new(Bits::One, 0).is_err());
    }
}
