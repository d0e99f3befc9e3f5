//! Timestamps in responses, for `#[serde(serialize_with)]`: RFC 3339 in UTC with `Z` and
//! as many fractional digits as the value needs (none, 3, 6 or 9), the text chrono's own
//! `Serialize` writes. chrono streams that text through `collect_str` a character at a
//! time, and serde_json runs each character through its escaping: about 2,000
//! instructions a timestamp, where formatting it first and writing one string costs
//! about 700. A list page of 100 accounts holds 400 of them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

pub fn rfc3339<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

pub fn rfc3339_or_null<S: Serializer>(
    at: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => rfc3339(at, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct Wire {
        #[serde(serialize_with = "rfc3339")]
        at: DateTime<Utc>,
        #[serde(serialize_with = "rfc3339_or_null")]
        maybe: Option<DateTime<Utc>>,
    }

    #[derive(Serialize)]
    struct Chrono {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
    }

    #[test]
    fn writes_what_chrono_writes() {
        let whole = Utc.with_ymd_and_hms(2026, 12, 1, 4, 5, 6).unwrap();
        let nanos = [0, 1, 120_000_000, 123_456_000, 123_456_789, 999_999_999];
        let years = [1970, 2026, 9999];
        for year in years {
            for nano in nanos {
                let at = Utc.with_ymd_and_hms(year, 2, 28, 23, 59, 59).unwrap()
                    + chrono::Duration::nanoseconds(nano);
                for maybe in [None, Some(whole), Some(at)] {
                    let ours = serde_json::to_string(&Wire { at, maybe }).unwrap();
                    let theirs = serde_json::to_string(&Chrono { at, maybe }).unwrap();
                    assert_eq!(ours, theirs);
                }
            }
        }
        assert_eq!(
            serde_json::to_string(&Wire {
                at: whole,
                maybe: None
            })
            .unwrap(),
            r#"{"at":"2026-12-01T04:05:06Z","maybe":null}"#
        );
    }
}
