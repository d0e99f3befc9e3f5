//! Every encode and decode of a stored value: bincode 2 (serde) behind one format byte,
//! so the stored format can change here and nowhere else.

use serde::Serialize;
use serde::de::DeserializeOwned;

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

pub(super) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    match bytes.split_first() {
        Some((&FORMAT_V1, rest)) => bincode::serde::decode_from_slice(rest, config())
            .map(|(value, _)| value)
            .map_err(Error::internal),
        Some((format, _)) => Err(Error::internal(format!(
            "stored value has unknown format {format}"
        ))),
        None => Err(Error::internal("stored value is empty")),
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
}
