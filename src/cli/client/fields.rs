//! Options shared by the create and update commands, turned into the API's body fields.

use clap::Args;
use serde_json::{Map, Value, json};

use super::error::ClientError;

/// `display_name`, `description` and `metadata`, as every object kind has them.
#[derive(Debug, Clone, Args)]
pub struct Describe {
    /// The display name (1 to 255 characters; defaults to the name).
    #[arg(long, value_name = "TEXT")]
    pub display_name: Option<String>,
    /// A description (at most 1024 characters).
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// A metadata entry; repeat for more. On update, the given entries replace the
    /// object's whole metadata.
    #[arg(long = "metadata", value_name = "KEY=VALUE")]
    pub metadata: Vec<String>,
}

impl Describe {
    /// Adds the fields given to `body`.
    pub fn fill(&self, body: &mut Map<String, Value>) -> Result<(), ClientError> {
        if let Some(text) = &self.display_name {
            body.insert("display_name".into(), json!(text));
        }
        if let Some(text) = &self.description {
            body.insert("description".into(), json!(text));
        }
        if !self.metadata.is_empty() {
            let mut metadata = Map::new();
            for entry in &self.metadata {
                let (key, value) = entry.split_once('=').ok_or_else(|| {
                    ClientError::usage(format!("--metadata {entry}: expected KEY=VALUE"))
                })?;
                metadata.insert(key.to_owned(), json!(value));
            }
            body.insert("metadata".into(), Value::Object(metadata));
        }
        Ok(())
    }
}

/// A body of `name` and the given fields.
pub fn named(name: &str) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("name".into(), json!(name));
    body
}
