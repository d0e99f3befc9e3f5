//! The byte form of the keys and values of the tables, the same for every engine: an
//! engine stores bytes, and compares keys as bytes. So the form keeps the order of the
//! Rust values it encodes (a tuple's by its first element, then its next, …): integers
//! are big-endian (a signed one with its sign bit flipped), a text inside a key ends
//! with a zero byte (a key's text never holds one), and the last element of a key, or a
//! value, runs to the end.

use crate::error::Error;
use crate::store::damage::damaged;

/// A type stored in a table, as a key or a value, in a form every engine keeps.
pub(in crate::store) trait Stored: 'static {
    /// The stored value as the tables' users see it: a text borrowed from the bytes.
    type Ref<'a>: Copy;

    /// Appends the form of `value`; `last` when nothing follows it.
    fn put(value: Self::Ref<'_>, out: &mut Vec<u8>, last: bool) -> Result<(), Error>;

    /// Reads a value from the front of `bytes`, moving past it; `None` when the bytes
    /// are no form of this type.
    fn take<'a>(bytes: &mut &'a [u8], last: bool) -> Option<Self::Ref<'a>>;

    /// A value in place of bytes that no longer decode, which [`Stored::decode`] never
    /// lets through: read bytes are checked once, when they leave the engine.
    fn placeholder<'a>() -> Self::Ref<'a>;
}

/// The form of `value`, whole.
pub(in crate::store) fn encode<S: Stored>(value: S::Ref<'_>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    S::put(value, &mut out, true)?;
    Ok(out)
}

/// The value whose whole form is `bytes`, or the damage of bytes that are none.
pub(in crate::store) fn decode<S: Stored>(mut bytes: &[u8]) -> Result<S::Ref<'_>, Error> {
    match S::take(&mut bytes, true) {
        Some(value) if bytes.is_empty() => Ok(value),
        _ => Err(damaged(format!(
            "a stored {} does not decode",
            std::any::type_name::<S>()
        ))),
    }
}

/// The first `n` bytes of `bytes`, moving past them.
fn split<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, rest) = (bytes.get(..n)?, bytes.get(n..)?);
    *bytes = rest;
    Some(head)
}

macro_rules! big_endian {
    ($($t:ty => $flip:expr),* $(,)?) => {$(
        impl Stored for $t {
            type Ref<'a> = $t;

            fn put(value: $t, out: &mut Vec<u8>, _: bool) -> Result<(), Error> {
                out.extend_from_slice(&(value ^ $flip).to_be_bytes());
                Ok(())
            }

            fn take<'a>(bytes: &mut &'a [u8], _: bool) -> Option<$t> {
                let head = split(bytes, size_of::<$t>())?;
                Some(<$t>::from_be_bytes(head.try_into().ok()?) ^ $flip)
            }

            fn placeholder<'a>() -> Self::Ref<'a> {
                0
            }
        }
    )*};
}

big_endian!(u128 => 0, u64 => 0, u32 => 0, i64 => i64::MIN);

impl Stored for &'static str {
    type Ref<'a> = &'a str;

    fn put(value: &str, out: &mut Vec<u8>, last: bool) -> Result<(), Error> {
        out.extend_from_slice(value.as_bytes());
        if !last {
            if value.contains('\0') {
                return Err(Error::internal("a key's text holds a zero byte"));
            }
            out.push(0);
        }
        Ok(())
    }

    fn take<'a>(bytes: &mut &'a [u8], last: bool) -> Option<&'a str> {
        let text = match last {
            true => std::mem::take(bytes),
            false => {
                let end = bytes.iter().position(|&b| b == 0)?;
                let text = split(bytes, end)?;
                split(bytes, 1)?;
                text
            }
        };
        std::str::from_utf8(text).ok()
    }

    fn placeholder<'a>() -> &'a str {
        ""
    }
}

impl Stored for &'static [u8] {
    type Ref<'a> = &'a [u8];

    fn put(value: &[u8], out: &mut Vec<u8>, last: bool) -> Result<(), Error> {
        match last {
            true => Ok(out.extend_from_slice(value)),
            false => Err(Error::internal("bytes of no fixed length inside a key")),
        }
    }

    fn take<'a>(bytes: &mut &'a [u8], last: bool) -> Option<&'a [u8]> {
        last.then(|| std::mem::take(bytes))
    }

    fn placeholder<'a>() -> &'a [u8] {
        &[]
    }
}

impl Stored for &'static [u8; 32] {
    type Ref<'a> = &'a [u8; 32];

    fn put(value: &[u8; 32], out: &mut Vec<u8>, _: bool) -> Result<(), Error> {
        out.extend_from_slice(value);
        Ok(())
    }

    fn take<'a>(bytes: &mut &'a [u8], _: bool) -> Option<&'a [u8; 32]> {
        split(bytes, 32)?.try_into().ok()
    }

    fn placeholder<'a>() -> &'a [u8; 32] {
        &[0; 32]
    }
}

impl Stored for () {
    type Ref<'a> = ();

    fn put((): (), _: &mut Vec<u8>, _: bool) -> Result<(), Error> {
        Ok(())
    }

    fn take<'a>(_: &mut &'a [u8], _: bool) -> Option<()> {
        Some(())
    }

    fn placeholder<'a>() -> Self::Ref<'a> {}
}

macro_rules! tuple {
    ($($name:ident)+, $last:ident) => {
        impl<$($name: Stored,)+ $last: Stored> Stored for ($($name,)+ $last) {
            type Ref<'a> = ($($name::Ref<'a>,)+ $last::Ref<'a>);

            #[allow(non_snake_case)]
            fn put(
                ($($name,)+ $last): Self::Ref<'_>,
                out: &mut Vec<u8>,
                last: bool,
            ) -> Result<(), Error> {
                $($name::put($name, out, false)?;)+
                $last::put($last, out, last)
            }

            fn take<'a>(bytes: &mut &'a [u8], last: bool) -> Option<Self::Ref<'a>> {
                Some(($($name::take(bytes, false)?,)+ $last::take(bytes, last)?))
            }

            fn placeholder<'a>() -> Self::Ref<'a> {
                ($($name::placeholder(),)+ $last::placeholder())
            }
        }
    };
}

tuple!(A, B);
tuple!(A B, C);

#[cfg(test)]
mod tests {
    use super::*;

    type NameKey = (&'static str, &'static str);
    type SetKey = (&'static str, &'static str, u32);

    /// Every pair of the values compares as their forms compare, and each form reads
    /// back.
    macro_rules! keeps_order {
        ($t:ty: $($value:expr),+ $(,)?) => {{
            let values: Vec<<$t as Stored>::Ref<'static>> = vec![$($value),+];
            for &a in &values {
                let form = encode::<$t>(a).unwrap();
                assert_eq!(decode::<$t>(&form).unwrap(), a);
                for &b in &values {
                    let other = encode::<$t>(b).unwrap();
                    assert_eq!(a.cmp(&b), form.cmp(&other), "{a:?} against {b:?}");
                }
            }
        }};
    }

    #[test]
    fn forms_keep_the_order_of_what_they_encode() {
        keeps_order!(u128: 0, 1, 255, 256, u128::MAX);
        keeps_order!(u32: 0, 1, 4096, u32::MAX);
        keeps_order!(i64: i64::MIN, -1, 0, 1, i64::MAX);
        keeps_order!(&'static str: "", "a", "a-", "ab", "b", "é");
        keeps_order!(NameKey: ("", ""), ("", "z"), ("a", ""), ("a", "b"), ("ab", ""));
        keeps_order!(SetKey: ("", "p:abc", 0), ("", "p:abc", 1), ("", "p:abd", 0));
        keeps_order!((u128, &'static str): (1, "b"), (1, "ba"), (2, ""));
    }

    #[test]
    fn bytes_that_are_no_form_are_damage_not_a_panic() {
        assert!(decode::<u128>(&[1, 2]).is_err());
        assert!(decode::<NameKey>(b"no end mark").is_err());
        assert!(decode::<&str>(&[0xff]).is_err());
        assert!(decode::<u32>(&[0, 0, 0, 0, 0]).is_err(), "a byte too many");
        assert!(encode::<NameKey>(("a\0b", "c")).is_err());
    }
}
