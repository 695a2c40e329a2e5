//! The SQL of apps and what hangs off them directly: slugs, roles, memberships and the
//! permission catalog.

pub(crate) const APP_COLUMNS: &str =
    "a.id, a.slug, a.display_name, a.status, a.metadata, a.config, a.created_at, a.updated_at";
pub(crate) const ROLE_COLUMNS: &str = "r.id, r.app_id, r.name, r.description, r.is_system, r.permissions, r.created_at";

/// `mod apps` of queries for database `$db`.
macro_rules! apps {
    ($db:ty) => {
        pub(crate) mod apps {
            use chrono::{DateTime, Utc};
            use sqlx::types::Json;
            use uuid::Uuid;

            use $crate::model::{App, Membership, Permission, Role};
            use $crate::store::sql::apps::{APP_COLUMNS, ROLE_COLUMNS};
            use $crate::store::sql::rows::{many, AppRow, MembershipRow, PermissionRow, RoleRow};
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn app_by_slug(db: &Pool, slug: &str) -> StoreResult<Option<App>> {
                let sql = format!("SELECT {APP_COLUMNS} FROM apps a WHERE a.slug = $1");
                sqlx::query_as::<_, AppRow>(&sql).bind(slug).fetch_optional(db).await?.map(AppRow::into_model).transpose()
            }

            pub(crate) async fn app_by_id(db: &Pool, id: Uuid) -> StoreResult<Option<App>> {
                let sql = format!("SELECT {APP_COLUMNS} FROM apps a WHERE a.id = $1");
                sqlx::query_as::<_, AppRow>(&sql).bind(id).fetch_optional(db).await?.map(AppRow::into_model).transpose()
            }

            pub(crate) async fn memberships_of(db: &Pool, account_id: Uuid) -> StoreResult<Vec<Membership>> {
                let sql = format!(
                    "SELECT {APP_COLUMNS}, r.id AS role_id, r.app_id AS role_app_id, r.name AS role_name, \
                     r.description AS role_description, r.is_system AS role_is_system, \
                     r.permissions AS role_permissions, r.created_at AS role_created_at, \
                     m.created_at AS member_since \
                     FROM memberships m JOIN apps a ON a.id = m.app_id JOIN roles r ON r.id = m.role_id \
                     WHERE m.account_id = $1 ORDER BY m.created_at, a.slug"
                );
                let rows = sqlx::query_as::<_, MembershipRow>(&sql).bind(account_id).fetch_all(db).await?;
                many(rows, MembershipRow::into_model)
            }

            pub(crate) async fn member_role(db: &Pool, app_id: Uuid, account_id: Uuid) -> StoreResult<Option<Role>> {
                let sql = format!(
                    "SELECT {ROLE_COLUMNS} FROM memberships m JOIN roles r ON r.id = m.role_id \
                     WHERE m.app_id = $1 AND m.account_id = $2"
                );
                let row = sqlx::query_as::<_, RoleRow>(&sql).bind(app_id).bind(account_id).fetch_optional(db).await?;
                row.map(RoleRow::into_model).transpose()
            }

            pub(crate) async fn roles(db: &Pool, app_id: Uuid) -> StoreResult<Vec<Role>> {
                let sql = format!(
                    "SELECT {ROLE_COLUMNS} FROM roles r WHERE r.app_id = $1 ORDER BY r.is_system DESC, r.created_at, r.name"
                );
                let rows = sqlx::query_as::<_, RoleRow>(&sql).bind(app_id).fetch_all(db).await?;
                many(rows, RoleRow::into_model)
            }

            pub(crate) async fn role_by_id(db: &Pool, app_id: Uuid, id: Uuid) -> StoreResult<Option<Role>> {
                let sql = format!("SELECT {ROLE_COLUMNS} FROM roles r WHERE r.app_id = $1 AND r.id = $2");
                let row = sqlx::query_as::<_, RoleRow>(&sql).bind(app_id).bind(id).fetch_optional(db).await?;
                row.map(RoleRow::into_model).transpose()
            }

            pub(crate) async fn role_by_name(db: &Pool, app_id: Uuid, name: &str) -> StoreResult<Option<Role>> {
                let sql = format!("SELECT {ROLE_COLUMNS} FROM roles r WHERE r.app_id = $1 AND r.name = $2");
                let row = sqlx::query_as::<_, RoleRow>(&sql).bind(app_id).bind(name).fetch_optional(db).await?;
                row.map(RoleRow::into_model).transpose()
            }

            pub(crate) async fn role_holders(db: &Pool, app_id: Uuid, role_id: Uuid) -> StoreResult<i64> {
                let count: i64 = sqlx::query_scalar(
                    "SELECT (SELECT COUNT(*) FROM users WHERE app_id = $1 AND role_id = $2) \
                     + (SELECT COUNT(*) FROM memberships WHERE app_id = $1 AND role_id = $2) \
                     + (SELECT COUNT(*) FROM organization_members WHERE app_id = $1 AND role_id = $2)",
                )
                .bind(app_id)
                .bind(role_id)
                .fetch_one(db)
                .await?;
                Ok(count)
            }

            pub(crate) async fn permissions(db: &Pool, app_id: Uuid) -> StoreResult<Vec<Permission>> {
                let rows = sqlx::query_as::<_, PermissionRow>(
                    "SELECT app_id, name, description, created_at FROM permissions WHERE app_id = $1 ORDER BY name",
                )
                .bind(app_id)
                .fetch_all(db)
                .await?;
                many(rows, PermissionRow::into_model)
            }

            pub(crate) async fn insert_app(tx: &mut Tx, app: &App) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO apps (id, slug, display_name, status, metadata, config, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(app.id).bind(&app.slug).bind(&app.display_name).bind(app.status.as_str())
                .bind(Json(&app.metadata)).bind(Json(&app.config))
                .bind(Ts(app.created_at)).bind(Ts(app.updated_at))
                .execute(&mut **tx).await?;
                // Slugs are permanent: the registry keeps every one ever used.
                sqlx::query("INSERT INTO app_slugs (slug, app_id, created_at) VALUES ($1, $2, $3)")
                    .bind(&app.slug).bind(app.id).bind(Ts(app.created_at))
                    .execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn update_app(tx: &mut Tx, app: &App) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE apps SET display_name = $2, status = $3, metadata = $4, config = $5, updated_at = $6 WHERE id = $1",
                )
                .bind(app.id).bind(&app.display_name).bind(app.status.as_str())
                .bind(Json(&app.metadata)).bind(Json(&app.config)).bind(Ts(app.updated_at))
                .execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn delete_app(tx: &mut Tx, id: Uuid, at: DateTime<Utc>) -> StoreResult<bool> {
                // The slug stays taken, as a tombstone.
                sqlx::query("UPDATE app_slugs SET deleted_at = $2 WHERE app_id = $1").bind(id).bind(Ts(at)).execute(&mut **tx).await?;
                // Memberships point at roles of this app; remove them before the cascade.
                sqlx::query("DELETE FROM memberships WHERE app_id = $1").bind(id).execute(&mut **tx).await?;
                let done = sqlx::query("DELETE FROM apps WHERE id = $1").bind(id).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn insert_role(tx: &mut Tx, role: &Role) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO roles (id, app_id, name, description, is_system, permissions, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(role.id).bind(role.app_id).bind(&role.name).bind(&role.description).bind(role.is_system)
                .bind(Json(&role.permissions)).bind(Ts(role.created_at))
                .execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn update_role(tx: &mut Tx, role: &Role) -> StoreResult<()> {
                sqlx::query("UPDATE roles SET description = $3, permissions = $4 WHERE app_id = $1 AND id = $2")
                    .bind(role.app_id).bind(role.id).bind(&role.description).bind(Json(&role.permissions))
                    .execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn reassign_role(tx: &mut Tx, app_id: Uuid, from: Uuid, to: Uuid) -> StoreResult<()> {
                sqlx::query("UPDATE users SET role_id = $3 WHERE app_id = $1 AND role_id = $2")
                    .bind(app_id).bind(from).bind(to).execute(&mut **tx).await?;
                sqlx::query("UPDATE memberships SET role_id = $3 WHERE app_id = $1 AND role_id = $2")
                    .bind(app_id).bind(from).bind(to).execute(&mut **tx).await?;
                sqlx::query("UPDATE organization_members SET role_id = $3 WHERE app_id = $1 AND role_id = $2")
                    .bind(app_id).bind(from).bind(to).execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn delete_role(tx: &mut Tx, app_id: Uuid, id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM roles WHERE app_id = $1 AND id = $2 AND NOT is_system")
                    .bind(app_id).bind(id).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn insert_membership(
                tx: &mut Tx,
                app_id: Uuid,
                account_id: Uuid,
                role_id: Uuid,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query("INSERT INTO memberships (app_id, account_id, role_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(app_id).bind(account_id).bind(role_id).bind(Ts(at))
                    .execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn insert_permission(tx: &mut Tx, p: &Permission) -> StoreResult<()> {
                sqlx::query("INSERT INTO permissions (app_id, name, description, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(p.app_id).bind(&p.name).bind(&p.description).bind(Ts(p.created_at))
                    .execute(&mut **tx).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use apps;
