//! Membership rows, kept in both directions: the account's record lists its groups,
//! the group's record counts its members, and an index lists the members of each group
//! in name order. `join` and `leave` change both sides in memory and the index; the
//! caller writes both records.

use std::collections::BTreeMap;
use std::ops::Bound;

use uuid::Uuid;

use super::groups;
use crate::domain::{Group, Name, ServiceAccount};
use crate::error::Error;
use crate::store::damage::damaged;
use crate::store::kv::TableRef;
use crate::store::reader::Reader;
use crate::store::tables;
use crate::store::tables::GroupMembers;
use crate::store::transaction::Tx;

/// Adds `account` to `group` on both sides; the caller writes both records.
pub(in crate::store) fn join(
    tx: &Tx,
    account: &mut ServiceAccount,
    group: &mut Group,
) -> Result<(), Error> {
    if account.groups.insert(group.id) {
        group.member_count += 1;
        tx.write(tables::GROUP_MEMBERS)?.insert(
            (group.id.as_u128(), account.name.as_str()),
            account.id.as_u128(),
        )?;
    }
    Ok(())
}

/// Removes `account` from `group` on both sides; the caller writes both records.
pub(in crate::store) fn leave(
    tx: &Tx,
    account: &mut ServiceAccount,
    group: &mut Group,
) -> Result<(), Error> {
    if account.groups.remove(&group.id) {
        group.member_count = group.member_count.saturating_sub(1);
        tx.write(tables::GROUP_MEMBERS)?
            .remove((group.id.as_u128(), account.name.as_str()))?;
    }
    Ok(())
}

/// The groups of an account, by name.
pub(in crate::store) fn groups_of(
    tx: &impl Reader,
    account: &ServiceAccount,
) -> Result<BTreeMap<Name, Group>, Error> {
    let mut found = BTreeMap::new();
    for id in &account.groups {
        let details =
            groups::get(tx, *id)?.ok_or_else(|| damaged("an account lists a missing group"))?;
        found.insert(details.group.name.clone(), details.group);
    }
    Ok(found)
}

/// Members of a group in name order, as (name, id), after the member named `after`
/// or from the first; read lazily so a page touches only its own entries.
pub(in crate::store) fn members_after<'t>(
    members: &TableRef<'t, GroupMembers>,
    group_id: Uuid,
    after: Option<&str>,
) -> Result<impl Iterator<Item = Result<(String, Uuid), Error>> + use<'t>, Error> {
    let gid = group_id.as_u128();
    let start = match after {
        Some(after) => Bound::Excluded((gid, after)),
        None => Bound::Included((gid, "")),
    };
    Ok(members
        .range((start, Bound::Unbounded))?
        .map(move |entry| {
            let (key, id) = entry?;
            let (group, name) = key.value();
            Ok((group == gid).then(|| (name.to_owned(), Uuid::from_u128(id.value()))))
        })
        .map_while(|entry: Result<Option<_>, Error>| entry.transpose()))
}

/// Every member of a group, as (name, id) in name order.
pub(in crate::store) fn members(
    tx: &impl Reader,
    group_id: Uuid,
) -> Result<Vec<(String, Uuid)>, Error> {
    let members = tx.table(tables::GROUP_MEMBERS)?;
    members_after(&members, group_id, None)?.collect()
}
