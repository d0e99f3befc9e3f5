//! The byte form of the keys and values of the tables, the same for every engine: an
//! engine stores bytes, and compares keys as bytes. So the form keeps the order of the
//! Rust values it encodes (a tuple's by its first element, then its next, …): integers
//! are big-endian (a signed one with its sign bit flipped); a text inside a key has each
//! zero byte written `00 FF` and ends with `00 01`, which sorts before any byte that
//! could follow; the last element of a key, or a value, runs to the end.
//!
//! A read value is looked at in place (`Plain`): in its ordered form, or, when a text
//! inside it holds a zero byte (which the form escapes), in a plain form where such a
//! text is its length and its bytes. Either way its texts are borrowed, never copied.

use std::borrow::Cow;
use std::marker::PhantomData;

use crate::error::Error;
use crate::store::damage::damaged;

/// A type stored in a table, as a key or a value, in a form every engine keeps.
pub(in crate::store) trait Stored: 'static {
    /// The stored value as the tables' users see it: a text borrowed from the bytes.
    type Ref<'a>: Copy;

    /// Appends the ordered form of `value`; `last` when nothing follows it.
    fn put(value: Self::Ref<'_>, out: &mut Vec<u8>, last: bool) -> Result<(), Error>;

    /// Moves past one value's ordered form at the front of `form`, appending its plain
    /// form to `out`; `None` when the bytes are no form of this type.
    fn plain(form: &mut &[u8], out: &mut Vec<u8>, last: bool) -> Option<()>;

    /// Reads a value from the front of its ordered form (`form`, when no text in it
    /// holds a zero byte) or its plain form, moving past it.
    fn view<'a>(bytes: &mut &'a [u8], last: bool, form: bool) -> Option<Self::Ref<'a>>;

    /// A value in place of bytes that no longer read, which [`Plain::new`] never lets
    /// through: read bytes are checked once, when they leave the engine.
    fn placeholder<'a>() -> Self::Ref<'a>;
}

/// The ordered form of `value`, whole.
pub(in crate::store) fn encode<S: Stored>(value: S::Ref<'_>) -> Result<Vec<u8>, Error> {
    // Room for most keys at once: a key of texts grows piece by piece.
    let mut out = Vec::with_capacity(48);
    S::put(value, &mut out, true)?;
    Ok(out)
}

/// A stored value read from its ordered form, checked, to be looked at.
pub(in crate::store) struct Plain<'b, S> {
    bytes: Cow<'b, [u8]>,
    /// Whether `bytes` is the ordered form (else the plain one).
    form: bool,
    _type: PhantomData<S>,
}

/// Whether `bytes` hold exactly one value of `S`.
fn whole<S: Stored>(mut bytes: &[u8], form: bool) -> bool {
    S::view(&mut bytes, true, form).is_some() && bytes.is_empty()
}

impl<'b, S: Stored> Plain<'b, S> {
    /// The value whose whole ordered form is `form`, or the damage of bytes that are
    /// none. The form is kept as it is unless a text in it holds a zero byte.
    pub(in crate::store) fn new(form: impl Into<Cow<'b, [u8]>>) -> Result<Self, Error> {
        let form = form.into();
        if whole::<S>(&form, true) {
            return Ok(Plain {
                bytes: form,
                form: true,
                _type: PhantomData,
            });
        }
        let (mut rest, mut bytes) = (form.as_ref(), Vec::with_capacity(form.len() + 8));
        match S::plain(&mut rest, &mut bytes, true).is_some()
            && rest.is_empty()
            && whole::<S>(&bytes, false)
        {
            true => Ok(Plain {
                bytes: Cow::Owned(bytes),
                form: false,
                _type: PhantomData,
            }),
            false => Err(damaged(format!(
                "a stored {} does not decode",
                std::any::type_name::<S>()
            ))),
        }
    }

    /// The value, borrowed.
    pub(in crate::store) fn value(&self) -> S::Ref<'_> {
        S::view(&mut self.bytes.as_ref(), true, self.form).unwrap_or_else(S::placeholder)
    }
}

/// The first `n` bytes of `bytes`, moving past them.
fn split<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    let (head, rest) = (bytes.get(..n)?, bytes.get(n..)?);
    *bytes = rest;
    Some(head)
}

/// Copies `n` bytes from the front of `form` to `out`.
fn copy(form: &mut &[u8], out: &mut Vec<u8>, n: usize) -> Option<()> {
    out.extend_from_slice(split(form, n)?);
    Some(())
}

macro_rules! big_endian {
    ($($t:ty => $flip:expr),* $(,)?) => {$(
        impl Stored for $t {
            type Ref<'a> = $t;

            fn put(value: $t, out: &mut Vec<u8>, _: bool) -> Result<(), Error> {
                out.extend_from_slice(&(value ^ $flip).to_be_bytes());
                Ok(())
            }

            fn plain(form: &mut &[u8], out: &mut Vec<u8>, _: bool) -> Option<()> {
                copy(form, out, size_of::<$t>())
            }

            fn view(bytes: &mut &[u8], _: bool, _: bool) -> Option<$t> {
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

/// The end of a text inside a key, and a zero byte within it.
const END: [u8; 2] = [0, 1];
const ZERO: [u8; 2] = [0, 0xff];

impl Stored for &'static str {
    type Ref<'a> = &'a str;

    fn put(value: &str, out: &mut Vec<u8>, last: bool) -> Result<(), Error> {
        if last {
            out.extend_from_slice(value.as_bytes());
            return Ok(());
        }
        for part in value.as_bytes().split(|&b| b == 0).enumerate() {
            if part.0 > 0 {
                out.extend_from_slice(&ZERO);
            }
            out.extend_from_slice(part.1);
        }
        out.extend_from_slice(&END);
        Ok(())
    }

    fn plain(form: &mut &[u8], out: &mut Vec<u8>, last: bool) -> Option<()> {
        if last {
            return copy(form, out, form.len());
        }
        let at = out.len();
        out.extend_from_slice(&[0; 4]);
        loop {
            let zero = form.iter().position(|&b| b == 0)?;
            copy(form, out, zero)?;
            match split(form, 2)? {
                mark if mark == END => break,
                mark if mark == ZERO => out.push(0),
                _ => return None,
            }
        }
        let length = u32::try_from(out.len() - at - 4).ok()?;
        out.get_mut(at..at + 4)?
            .copy_from_slice(&length.to_be_bytes());
        Some(())
    }

    fn view<'a>(bytes: &mut &'a [u8], last: bool, form: bool) -> Option<&'a str> {
        let text = match (last, form) {
            (true, _) => std::mem::take(bytes),
            (false, true) => {
                let text = split(bytes, bytes.iter().position(|&b| b == 0)?)?;
                (split(bytes, 2)? == END).then_some(text)?
            }
            (false, false) => {
                let length = u32::from_be_bytes(split(bytes, 4)?.try_into().ok()?);
                split(bytes, usize::try_from(length).ok()?)?
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
            true => {
                out.extend_from_slice(value);
                Ok(())
            }
            false => Err(Error::internal("bytes of no fixed length inside a key")),
        }
    }

    fn plain(form: &mut &[u8], out: &mut Vec<u8>, last: bool) -> Option<()> {
        last.then(|| copy(form, out, form.len()))?
    }

    fn view<'a>(bytes: &mut &'a [u8], last: bool, _: bool) -> Option<&'a [u8]> {
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

    fn plain(form: &mut &[u8], out: &mut Vec<u8>, _: bool) -> Option<()> {
        copy(form, out, 32)
    }

    fn view<'a>(bytes: &mut &'a [u8], _: bool, _: bool) -> Option<&'a [u8; 32]> {
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

    fn plain(_: &mut &[u8], _: &mut Vec<u8>, _: bool) -> Option<()> {
        Some(())
    }

    fn view(_: &mut &[u8], _: bool, _: bool) -> Option<()> {
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

            fn plain(form: &mut &[u8], out: &mut Vec<u8>, last: bool) -> Option<()> {
                $($name::plain(form, out, false)?;)+
                $last::plain(form, out, last)
            }

            fn view<'a>(bytes: &mut &'a [u8], last: bool, form: bool) -> Option<Self::Ref<'a>> {
                Some(($($name::view(bytes, false, form)?,)+ $last::view(bytes, last, form)?))
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
                assert_eq!(Plain::<$t>::new(&form[..]).unwrap().value(), a);
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
        keeps_order!(&'static str: "", "a", "a-", "ab", "b", "é", "a\0", "a\0b");
        keeps_order!(
            NameKey: ("", ""), ("", "z"), ("a", ""), ("a", "b"), ("ab", ""),
            ("a\0", ""), ("a\0b", "x"), ("a\u{1}", ""), ("a", "\0")
        );
        keeps_order!(SetKey: ("", "p:abc", 0), ("", "p:abc", 1), ("", "p:abd", 0));
        keeps_order!((u128, &'static str): (1, "b"), (1, "ba"), (2, ""));
    }

    #[test]
    fn bytes_that_are_no_form_are_damage_not_a_panic() {
        assert!(Plain::<u128>::new(&[1, 2][..]).is_err());
        assert!(Plain::<NameKey>::new(&b"no end mark"[..]).is_err());
        assert!(
            Plain::<NameKey>::new(&b"a\0\x07b"[..]).is_err(),
            "no such mark"
        );
        assert!(Plain::<&str>::new(&[0xff][..]).is_err());
        assert!(
            Plain::<u32>::new(&[0, 0, 0, 0, 0][..]).is_err(),
            "a byte too many"
        );
    }
}
