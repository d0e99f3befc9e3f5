//! Permission checks on a caller. Lacking read on a kind hides its objects (404, no
//! enumeration); lacking any other permission is 403.

use super::{AuthenticatedBy, Caller};
use crate::domain::{ActorRef, Kind, Name, PermissionSet, Scope};
use crate::error::Error;
use crate::store::{Grantor, Store, WriteContext};

/// The 403 of a caller that lacks `permission`.
pub fn lacking(permission: &str) -> Error {
    Error::PermissionDenied(format!("this needs the permission '{permission}'"))
}

impl Caller {
    /// 403 unless the caller holds `permission` in the request's scope (404 when that
    /// is a project that does not exist).
    pub async fn require(&self, permission: &str) -> Result<(), Error> {
        if self.permissions.allows(permission) {
            return Ok(());
        }
        Err(self.refused(lacking(permission)).await)
    }

    /// The answer to a refusal in the request's scope: `denied`, or in a project that
    /// does not exist 404 naming it, as the store decides in a read transaction. A
    /// caller that holds nothing in the project never gets here: it was answered 404
    /// before any read.
    async fn refused(&self, denied: Error) -> Error {
        self.store.refuse_in(&self.scope, denied).await
    }

    /// 403 unless the caller holds `permission` where its account lives, whatever the
    /// request's scope: for what reaches into every scope the caller may act in.
    pub fn require_held(&self, permission: &str) -> Result<(), Error> {
        if self.held.allows(permission) {
            return Ok(());
        }
        Err(lacking(permission))
    }

    /// What the caller holds in `scope`: a root account's permissions hold at the root
    /// and in every project, a project account's in its project only.
    pub fn held_in(&self, scope: &Scope) -> PermissionSet {
        if self.principal.scope.reaches(scope) {
            self.held.clone()
        } else {
            PermissionSet::default()
        }
    }

    /// Whether the caller may read anything in `scope`: some kind of object there.
    pub fn reads_anything_in(&self, scope: &Scope) -> bool {
        self.principal.scope.reaches(scope) && self.held.reads_something()
    }

    /// Whether the caller holds `permission` in `scope`: a root account's permissions
    /// hold in every scope, a project account's in its project only.
    pub fn holds_in(&self, scope: &Scope, permission: &str) -> bool {
        self.principal.scope.reaches(scope) && self.held.allows(permission)
    }

    /// 404 for the object `name` unless the caller may read objects of its kind (404
    /// naming the project instead when the request's project does not exist).
    pub async fn require_read(&self, kind: Kind, name: &str) -> Result<(), Error> {
        if self.permissions.allows(kind.read_permission()) {
            return Ok(());
        }
        Err(self.refused(Error::not_found(kind, name)).await)
    }

    /// The object name `raw` of the path: a name that breaks the naming rule names
    /// nothing (404 naming it, or naming the request's project when that is missing).
    pub async fn name_in_path(&self, kind: Kind, raw: &str) -> Result<Name, Error> {
        match Name::in_path(kind, raw) {
            Ok(name) => Ok(name),
            Err(unnamed) => Err(self.refused(unnamed).await),
        }
    }

    /// For a change of the object named `raw` in the path: 404 unless the caller may
    /// read objects of its kind (a name that breaks the naming rule names nothing, so
    /// 404 too). A caller that may read but not change them gets the store's answer: 404
    /// for a missing object, 403 for an existing one. Answers the parsed name.
    pub async fn require_change(
        &self,
        store: &Store,
        kind: Kind,
        scope: &Scope,
        raw: &str,
    ) -> Result<Name, Error> {
        self.require_read(kind, raw).await?;
        let name = self.name_in_path(kind, raw).await?;
        if self.permissions.allows(kind.write_permission()) {
            return Ok(name);
        }
        let denied = lacking(kind.write_permission());
        Err(store.refuse_change(scope, kind, &name, denied).await)
    }

    /// The context of a write made for this caller.
    pub fn write_context(&self) -> WriteContext {
        let account = &self.principal.account;
        WriteContext {
            now: self.now,
            actor: ActorRef {
                id: Some(account.id),
                name: account.name.to_string(),
            },
            request_id: self.request_id.clone(),
            scope: self.scope.clone(),
            grantor: Some(Grantor {
                account_id: account.id,
                scope: match &self.authenticated_by {
                    AuthenticatedBy::AccessToken { claims } => {
                        Some(claims.scopes().map(str::to_owned).collect())
                    }
                    AuthenticatedBy::Secret { .. } => None,
                },
            }),
        }
    }
}
