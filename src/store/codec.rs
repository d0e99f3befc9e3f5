//! Every encode and decode of a stored value: bincode 2 (serde) behind one format byte,
//! so the stored format can change here and nowhere else. Sets of account numbers are
//! roaring bitmaps in their portable format, behind the same byte. A stored value that
//! does not decode is damage (see `damage`).

use roaring::RoaringBitmap;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::damage::damaged;
use crate::domain::Etag;
use crate::error::Error;

/// The format byte in front of every stored value.
const FORMAT_V1: u8 = 1;

fn config() -> bincode::config::Configuration {
    bincode::config::standard()
}

pub(super) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = vec![FORMAT_V1];
    bincode::serde::encode_into_std_write(value, &mut out, config()).map_err(Error::internal)?;
    Ok(out)
}

/// Decodes a stored value; an error names its type, never a changed value.
pub(super) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let kind = std::any::type_name::<T>()
        .rsplit("::")
        .next()
        .unwrap_or("value");
    decode_as(bytes).map_err(|why| damaged(format!("a stored {kind} {why}")))
}

/// Decodes a stored object with its etag, for an answer that carries one.
pub(super) fn decode_with_etag<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, Etag), Error> {
    Ok((decode(bytes)?, Etag::of(bytes)))
}

/// Decodes the stored object `kind` under `key`; an error names both.
pub(super) fn decode_object<T: DeserializeOwned>(
    bytes: &[u8],
    kind: &str,
    key: impl std::fmt::Display,
) -> Result<T, Error> {
    decode_as(bytes).map_err(|why| damaged(format!("the stored {kind} {key} {why}")))
}

pub(super) fn encode_bitmap(bitmap: &RoaringBitmap) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(1 + bitmap.serialized_size());
    out.push(FORMAT_V1);
    bitmap.serialize_into(&mut out).map_err(Error::internal)?;
    Ok(out)
}

/// Decodes a stored set of account numbers.
pub(super) fn decode_bitmap(bytes: &[u8]) -> Result<RoaringBitmap, Error> {
    let why = match bytes.split_first() {
        Some((&FORMAT_V1, rest)) => match RoaringBitmap::deserialize_from(rest) {
            Ok(bitmap) => return Ok(bitmap),
            Err(err) => format!("does not decode: {err}"),
        },
        Some((format, _)) => format!("has unknown format {format}"),
        None => "is empty".to_owned(),
    };
    Err(damaged(format!("a stored set of accounts {why}")))
}

fn decode_as<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    match bytes.split_first() {
        Some((&FORMAT_V1, rest)) => match bincode::serde::decode_from_slice(rest, config()) {
            Ok((value, read)) if read == rest.len() => Ok(value),
            Ok((_, read)) => Err(format!(
                "does not decode: {} bytes left over after the value",
                rest.len() - read
            )),
            Err(err) => Err(format!("does not decode: {err}")),
        },
        Some((format, _)) => Err(format!("has unknown format {format}")),
        None => Err("is empty".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_a_format_byte() {
        let value = (42u32, "name".to_owned(), Some(7i64));
        let bytes = encode(&value).unwrap();
        assert_eq!(bytes[0], FORMAT_V1);
        assert_eq!(decode::<(u32, String, Option<i64>)>(&bytes).unwrap(), value);
    }

    #[test]
    fn refuses_unknown_formats_and_garbage() {
        let mut bytes = encode(&1u32).unwrap();
        bytes[0] = 9;
        assert!(decode::<u32>(&bytes).is_err());
        assert!(decode::<u32>(&[]).is_err());
        assert!(decode::<String>(&[FORMAT_V1, 200]).is_err());
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

    #[test]
    fn an_error_names_the_object_and_trailing_bytes_are_refused() {
        let mut bytes = encode(&7u32).unwrap();
        bytes.push(0);
        let err = decode_object::<u32>(&bytes, "role", "ops").unwrap_err();
        let Error::Internal(cause) = err else {
            panic!("not internal")
        };
        assert!(
            cause
                .to_string()
                .starts_with("the stored role ops does not decode")
        );
        let Error::Internal(cause) = decode::<String>(&[2]).unwrap_err() else {
            panic!("not internal")
        };
        assert_eq!(cause.to_string(), "a stored String has unknown format 2");
    }
}
