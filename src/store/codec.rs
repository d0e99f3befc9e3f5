//! The bytes of every stored value: a format byte, then bincode 2 (serde), so the stored
//! format can change here and nowhere else. The byte names the version of the record
//! (`records`): byte 1 is the first layout of every kind, as files have always held it;
//! a kind that gains a field is written with the next byte and read beside the old.
//! Sets of account numbers are roaring bitmaps in their portable format, behind the
//! byte 1. A stored value that does not decode is damage (see `damage`).

use roaring::RoaringBitmap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::damage::damaged;
use crate::error::Error;

/// The format byte of the first layout of every kind of stored value.
pub(super) const FORMAT_V1: u8 = 1;

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// `value` behind the format byte `format`.
pub(super) fn encode_as<T: Serialize>(format: u8, value: &T) -> Result<Vec<u8>, Error> {
    let mut out = vec![format];
    bincode::serde::encode_into_std_write(value, &mut out, config()).map_err(Error::internal)?;
    Ok(out)
}

/// A stored value's format byte and the bytes after it; why not, if it is empty.
pub(super) fn split(bytes: &[u8]) -> Result<(u8, &[u8]), String> {
    match bytes.split_first() {
        Some((&format, body)) => Ok((format, body)),
        None => Err("is empty".to_owned()),
    }
}

/// Why a value of format `format` is not read: no version of its kind has that byte.
pub(super) fn unknown_format(format: u8) -> String {
    format!("has unknown format {format}")
}

/// Decodes the bytes after the format byte, all of them.
pub(super) fn decode_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    match bincode::serde::decode_from_slice(body, config()) {
        Ok((value, read)) if read == body.len() => Ok(value),
        Ok((_, read)) => Err(format!(
            "does not decode: {} bytes left over after the value",
            body.len() - read
        )),
        Err(err) => Err(format!("does not decode: {err}")),
    }
}

/// Decodes the first value of the bytes after the format byte, leaving the rest: for a
/// record whose first field is read alone.
pub(super) fn decode_front<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    bincode::serde::decode_from_slice(body, config())
        .map(|(value, _)| value)
        .map_err(|err| format!("does not decode: {err}"))
}

pub(super) fn encode_bitmap(bitmap: &RoaringBitmap) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(1 + bitmap.serialized_size());
    out.push(FORMAT_V1);
    bitmap.serialize_into(&mut out).map_err(Error::internal)?;
    Ok(out)
}

/// Decodes a stored set of account numbers.
pub(super) fn decode_bitmap(bytes: &[u8]) -> Result<RoaringBitmap, Error> {
    let why = match split(bytes) {
        Ok((FORMAT_V1, rest)) => match RoaringBitmap::deserialize_from(rest) {
            Ok(bitmap) => return Ok(bitmap),
            Err(err) => format!("does not decode: {err}"),
        },
        Ok((format, _)) => unknown_format(format),
        Err(why) => why,
    };
    Err(damaged(format!("a stored set of accounts {why}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_round_trips_behind_its_format_byte() {
        let value = (42u32, "name".to_owned(), Some(7i64));
        let bytes = encode_as(3, &value).unwrap();
        let (format, body) = split(&bytes).unwrap();
        assert_eq!(format, 3);
        assert_eq!(
            decode_body::<(u32, String, Option<i64>)>(body).unwrap(),
            value
        );
    }

    #[test]
    fn empty_values_garbage_and_trailing_bytes_are_refused() {
        assert_eq!(split(&[]).unwrap_err(), "is empty");
        assert!(decode_body::<String>(&[200]).is_err());
        let mut bytes = encode_as(FORMAT_V1, &7u32).unwrap();
        bytes.push(0);
        let why = decode_body::<u32>(&bytes[1..]).unwrap_err();
        assert!(why.contains("1 bytes left over"), "{why}");
    }

    #[test]
    fn a_bitmap_round_trips_with_a_format_byte_and_garbage_is_refused() {
        let bitmap: RoaringBitmap = [3, 70_000, 70_001].into_iter().collect();
        let bytes = encode_bitmap(&bitmap).unwrap();
        assert_eq!(bytes[0], FORMAT_V1);
        assert_eq!(decode_bitmap(&bytes).unwrap(), bitmap);
        assert!(decode_bitmap(&[]).is_err());
        assert!(decode_bitmap(&[2, 0]).is_err());
        assert!(decode_bitmap(&[FORMAT_V1, 1, 2]).is_err());
    }
}
