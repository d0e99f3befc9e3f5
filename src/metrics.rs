//! Prometheus metrics at `/metrics`, encoded by prometheus-client.

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;

use crate::store::Store;

pub struct Metrics {
    registry: Registry,
}

impl Metrics {
    pub fn new(store: &Store) -> Metrics {
        let mut registry = Registry::default();
        registry.register(
            "keyhouse_store_write_transactions",
            "Write transactions committed to the database",
            store.write_counter(),
        );
        Metrics { registry }
    }

    /// The Prometheus text exposition of every family.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        Ok(text)
    }
}
