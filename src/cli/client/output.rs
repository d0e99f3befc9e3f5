//! Printing answers: the API's JSON as one document, the same as YAML, or a table whose
//! widths fit the terminal. No colour is ever written, so a pipe gets plain text.

use std::io::IsTerminal;

use serde_json::Value;

use super::error::ClientError;
use super::options::Format;

/// A column of a list's table: its heading and the field it shows (a dotted path such
/// as `actor.name`).
pub type Column = (&'static str, &'static str);

/// Prints one object: every field a line in a table.
pub fn object(format: Format, value: &Value) -> Result<(), ClientError> {
    match format {
        Format::Table => {
            let rows: Vec<Vec<String>> = match value {
                Value::Object(map) => map
                    .iter()
                    .map(|(key, value)| vec![key.clone(), cell(value)])
                    .collect(),
                other => vec![vec![cell(other)]],
            };
            print!("{}", table(&[], &rows, width()));
            Ok(())
        }
        _ => document(format, value),
    }
}

/// Prints the items of a list under `columns`.
pub fn list(format: Format, items: Vec<Value>, columns: &[Column]) -> Result<(), ClientError> {
    match format {
        Format::Table => {
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|item| {
                    columns
                        .iter()
                        .map(|(_, path)| cell(field(item, path)))
                        .collect()
                })
                .collect();
            let headings: Vec<&str> = columns.iter().map(|(heading, _)| *heading).collect();
            print!("{}", table(&headings, &rows, width()));
            Ok(())
        }
        _ => document(format, &Value::Array(items)),
    }
}

/// Prints `value` as JSON or YAML, whatever `format` says but a table.
pub fn document(format: Format, value: &Value) -> Result<(), ClientError> {
    let text = match format {
        Format::Yaml => serde_norway::to_string(value)
            .map_err(|err| ClientError::local(format!("cannot write YAML: {err}")))?,
        _ => {
            serde_json::to_string_pretty(value)
                .map_err(|err| ClientError::local(format!("cannot write JSON: {err}")))?
                + "\n"
        }
    };
    print!("{text}");
    Ok(())
}

/// The value at a dotted path; null when missing.
fn field<'a>(item: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(item, |value, key| &value[key])
}

/// A value as a table cell: `-` for null, lists joined with commas (objects in a list
/// by their name), nested objects as compact JSON.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(text) => text.clone(),
        Value::Array(items) if items.is_empty() => "-".to_owned(),
        Value::Array(items) => items
            .iter()
            .map(|item| match item.get("name") {
                Some(name) => cell(name),
                None => cell(item),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(map) if map.is_empty() => "-".to_owned(),
        other => other.to_string(),
    }
}

/// The terminal's width, or none when standard output is not a terminal (a pipe gets
/// whole cells).
fn width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    terminal_size::terminal_size().map(|(width, _)| usize::from(width.0))
}

/// Lays out `rows` in columns two spaces apart; within `width`, the widest columns are
/// cut (ending in `…`) until the line fits, none below 8 characters.
pub fn table(headings: &[&str], rows: &[Vec<String>], width: Option<usize>) -> String {
    let count = headings.len().max(rows.first().map_or(0, Vec::len));
    let mut widths = vec![0; count];
    for row in std::iter::once(headings.iter().map(|h| h.to_string()).collect::<Vec<_>>())
        .chain(rows.iter().cloned())
    {
        for (i, text) in row.iter().enumerate().take(count) {
            widths[i] = widths[i].max(text.chars().count());
        }
    }
    if let Some(width) = width {
        let gaps = 2 * count.saturating_sub(1);
        while widths.iter().sum::<usize>() + gaps > width {
            let Some((widest, &w)) = widths.iter().enumerate().max_by_key(|(_, w)| **w) else {
                break;
            };
            if w <= 8 {
                break;
            }
            widths[widest] = w - 1;
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate().take(count) {
            let fitted = fit(cell, widths[i]);
            if i + 1 == cells.len().min(count) {
                text.push_str(&fitted);
            } else {
                text.push_str(&format!("{fitted:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    if !headings.is_empty() {
        line(&headings.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    }
    for row in rows {
        line(row);
    }
    out
}

/// `text` cut to `width` characters, its last one `…` when cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_read_plainly() {
        assert_eq!(cell(&json!(null)), "-");
        assert_eq!(cell(&json!(["a", "b"])), "a,b");
        assert_eq!(cell(&json!([{"name": "g1"}, {"name": "g2"}])), "g1,g2");
        assert_eq!(cell(&json!(3)), "3");
    }

    #[test]
    fn a_table_fits_the_width_it_is_given() {
        let rows = vec![vec!["ci-bot".to_owned(), "x".repeat(200)]];
        let text = table(&["NAME", "DESCRIPTION"], &rows, Some(40));
        assert!(text.lines().all(|l| l.chars().count() <= 40), "{text}");
        assert!(text.contains('…'));
        let whole = table(&["NAME", "DESCRIPTION"], &rows, None);
        assert!(whole.contains(&"x".repeat(200)));
        assert!(whole.starts_with("NAME    DESCRIPTION\n"), "{whole}");
    }
}
