//! The `json` log format: one object per line, written through env_logger's format
//! hook. Every line has `time`, `level`, `target` and `message`; a line written during
//! a request adds `request_id` and, when the client sent a `traceparent`, `trace_id`
//! and `parent_id`; the record's key-values follow (the access log's `method`, `route`,
//! `status`, `duration_ms`, `client`, ...). Text passes through the one redaction rule,
//! so a `kh_` secret is written as `kh_[redacted]` in any field.

use std::io::{self, Write};

use log::kv::{self, VisitSource};
use serde_json::{Map, Value};

use super::context::with_current;
use crate::error::redact;

/// Writes `record` as one JSON line.
pub(super) fn format(buf: &mut env_logger::fmt::Formatter, record: &log::Record) -> io::Result<()> {
    let mut line = Map::new();
    line.insert("time".into(), buf.timestamp_millis().to_string().into());
    line.insert("level".into(), record.level().as_str().into());
    line.insert("target".into(), record.target().into());
    line.insert("message".into(), redact(&record.args().to_string()).into());
    with_current(|context| {
        if let Some(context) = context {
            line.insert("request_id".into(), context.request_id.clone().into());
            if let Some(trace) = &context.trace {
                line.insert("trace_id".into(), trace.trace_id.clone().into());
                line.insert("parent_id".into(), trace.parent_id.clone().into());
            }
        }
    });
    let mut fields = Fields(&mut line);
    record
        .key_values()
        .visit(&mut fields)
        .map_err(io::Error::other)?;
    serde_json::to_writer(&mut *buf, &Value::Object(line))?;
    buf.write_all(b"\n")
}

/// Adds each key-value to the line: numbers and booleans as such, anything else as
/// redacted text. A key the line already has is left as it is.
struct Fields<'a>(&'a mut Map<String, Value>);

impl<'kvs> VisitSource<'kvs> for Fields<'_> {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let value = if let Some(n) = value.to_u64() {
            Value::from(n)
        } else if let Some(n) = value.to_i64() {
            Value::from(n)
        } else if let Some(x) = value.to_f64() {
            Value::from(x)
        } else if let Some(b) = value.to_bool() {
            Value::from(b)
        } else {
            Value::from(redact(&value.to_string()))
        };
        self.0.entry(key.as_str().to_owned()).or_insert(value);
        Ok(())
    }
}
