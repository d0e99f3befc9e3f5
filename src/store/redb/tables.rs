//! redb's definitions of the tables of the list (`store::tables`), and the opening of
//! each as an adapter (`native`): the one place that turns a table of the seam into a
//! table of redb, with its types.

use redb::{Key, ReadTransaction, TableDefinition, Value, WriteTransaction};

use super::native::{ReadAdapter, WriteAdapter};
use crate::error::Error;
use crate::store::tables::{self, KnownTable, NameKey, TableId, table_list};

/// A table of the list with its redb definition, for code that reads redb's tables
/// directly (a migration and its tests).
pub(super) trait Defined: KnownTable {
    type Key: Key + 'static;
    type Value: Value + 'static;
    const DEF: TableDefinition<'static, Self::Key, Self::Value>;

    fn def(self) -> TableDefinition<'static, Self::Key, Self::Value> {
        Self::DEF
    }
}

macro_rules! definitions {
    ($(
        $(#[$doc:meta])*
        $konst:ident / $marker:ident = $name:literal: <$k:ty, $v:ty>;
    )*) => {
        $(
            impl Defined for tables::$marker {
                type Key = $k;
                type Value = $v;
                const DEF: TableDefinition<'static, $k, $v> = TableDefinition::new($name);
            }
        )*

        /// `table` of the read transaction `tx`.
        pub(super) fn open_read(
            tx: &ReadTransaction,
            table: TableId,
        ) -> Result<Box<dyn ReadAdapter>, Error> {
            #[cfg(test)]
            crate::store::faults::check_table(table.name())?;
            Ok(match table {
                $(TableId::$marker => {
                    Box::new(tx.open_table(tables::$marker::DEF)?)
                })*
            })
        }

        /// `table` of the write transaction `tx`, created if it does not exist.
        pub(super) fn open_write<'w>(
            tx: &'w WriteTransaction,
            table: TableId,
        ) -> Result<Box<dyn WriteAdapter + 'w>, Error> {
            #[cfg(test)]
            crate::store::faults::check_table(table.name())?;
            Ok(match table {
                $(TableId::$marker => {
                    Box::new(tx.open_table(tables::$marker::DEF)?)
                })*
            })
        }
    };
}

table_list!(definitions);
