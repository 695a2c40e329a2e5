//! The SQL of end-users and their contacts: lookups, profiles, the searchable page, and the
//! writes.

pub(crate) const USER_COLUMNS: &str =
    "u.id, u.app_id, u.username, u.display_name, u.password_hash, u.role_id, u.status, u.created_at, u.updated_at";

/// A LIKE pattern that finds `needle` anywhere, with `%`, `_` and `\` taken literally.
pub(crate) fn contains_pattern(needle: &str) -> String {
    let escaped = needle.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// `mod users` of queries for database `$db`.
macro_rules! users {
    ($db:ty) => {
        pub(crate) mod users {
            use chrono::{DateTime, Utc};
            use uuid::Uuid;

            use $crate::model::{Contact, ContactKind, User, UserCursor, UserProfile};
            use $crate::store::sql::rows::{many, ContactRow, ProfileRow, UserRow};
            use $crate::store::sql::users::{contains_pattern, USER_COLUMNS};
            use $crate::store::{StoreResult, Ts};

            type Pool = sqlx::Pool<$db>;
            type Tx = sqlx::Transaction<'static, $db>;

            pub(crate) async fn user_by_id(db: &Pool, app_id: Uuid, id: Uuid) -> StoreResult<Option<User>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.app_id = $1 AND u.id = $2");
                let row = sqlx::query_as::<_, UserRow>(&sql).bind(app_id).bind(id).fetch_optional(db).await?;
                row.map(UserRow::into_model).transpose()
            }

            pub(crate) async fn user_by_username(db: &Pool, app_id: Uuid, username: &str) -> StoreResult<Option<User>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users u WHERE u.app_id = $1 AND u.username_normalized = $2");
                let row = sqlx::query_as::<_, UserRow>(&sql)
                    .bind(app_id)
                    .bind(username.to_lowercase())
                    .fetch_optional(db)
                    .await?;
                row.map(UserRow::into_model).transpose()
            }

            pub(crate) async fn user_by_verified_contact(
                db: &Pool,
                app_id: Uuid,
                kind: ContactKind,
                value: &str,
            ) -> StoreResult<Option<User>> {
                let sql = format!(
                    "SELECT {USER_COLUMNS} FROM contacts c JOIN users u ON u.id = c.user_id \
                     WHERE c.app_id = $1 AND c.kind = $2 AND c.value_normalized = $3 AND c.verified_at IS NOT NULL"
                );
                let row = sqlx::query_as::<_, UserRow>(&sql)
                    .bind(app_id)
                    .bind(kind.as_str())
                    .bind(value.to_lowercase())
                    .fetch_optional(db)
                    .await?;
                row.map(UserRow::into_model).transpose()
            }

            pub(crate) async fn contacts_of(db: &Pool, app_id: Uuid, user_id: Uuid) -> StoreResult<Vec<Contact>> {
                let rows = sqlx::query_as::<_, ContactRow>(
                    "SELECT id, app_id, user_id, kind, value, is_primary, verified_at, created_at FROM contacts \
                     WHERE app_id = $1 AND user_id = $2 ORDER BY is_primary DESC, created_at",
                )
                .bind(app_id)
                .bind(user_id)
                .fetch_all(db)
                .await?;
                many(rows, ContactRow::into_model)
            }

            pub(crate) async fn user_profile(db: &Pool, app_id: Uuid, id: Uuid) -> StoreResult<Option<UserProfile>> {
                let sql = format!(
                    "SELECT {USER_COLUMNS}, r.name AS role_name, c.value AS email, c.verified_at AS email_verified_at \
                     FROM users u JOIN roles r ON r.id = u.role_id \
                     LEFT JOIN contacts c ON c.user_id = u.id AND c.kind = 'email' AND c.is_primary = TRUE \
                     WHERE u.app_id = $1 AND u.id = $2"
                );
                let row = sqlx::query_as::<_, ProfileRow>(&sql).bind(app_id).bind(id).fetch_optional(db).await?;
                row.map(ProfileRow::into_model).transpose()
            }

            pub(crate) async fn users_page(
                db: &Pool,
                app_id: Uuid,
                search: Option<&str>,
                search_contacts: bool,
                after: Option<UserCursor>,
                limit: u32,
            ) -> StoreResult<Vec<UserProfile>> {
                // Each user with its role's name and primary email: one query for the page.
                let mut sql = format!(
                    "SELECT {USER_COLUMNS}, r.name AS role_name, c.value AS email, c.verified_at AS email_verified_at \
                     FROM users u JOIN roles r ON r.id = u.role_id \
                     LEFT JOIN contacts c ON c.user_id = u.id AND c.kind = 'email' AND c.is_primary = TRUE \
                     WHERE u.app_id = $1"
                );
                if search.is_some() {
                    sql.push_str(" AND (u.username_normalized LIKE $2 ESCAPE '\\' OR LOWER(u.display_name) LIKE $2 ESCAPE '\\'");
                    if search_contacts {
                        sql.push_str(
                            " OR EXISTS (SELECT 1 FROM contacts s WHERE s.user_id = u.id AND s.value_normalized LIKE $2 ESCAPE '\\')",
                        );
                    }
                    sql.push(')');
                }
                if after.is_some() {
                    sql.push_str(" AND (u.created_at > $3 OR (u.created_at = $3 AND u.id > $4))");
                }
                sql.push_str(" ORDER BY u.created_at, u.id LIMIT $5");
                // Unused parameters are bound anyway so the numbering stays fixed.
                let (at, id) = after.map(|c| (Ts(c.created_at), c.id)).unwrap_or((Ts(DateTime::UNIX_EPOCH), Uuid::nil()));
                let rows = sqlx::query_as::<_, ProfileRow>(&sql)
                    .bind(app_id)
                    .bind(search.map(contains_pattern).unwrap_or_default())
                    .bind(at)
                    .bind(id)
                    .bind(i64::from(limit))
                    .fetch_all(db)
                    .await?;
                many(rows, ProfileRow::into_model)
            }

            pub(crate) async fn insert_user(tx: &mut Tx, user: &User) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO users (id, app_id, username, username_normalized, display_name, password_hash, role_id, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(user.id).bind(user.app_id).bind(&user.username).bind(user.username.to_lowercase())
                .bind(&user.display_name).bind(&user.password_hash).bind(user.role_id).bind(user.status.as_str())
                .bind(Ts(user.created_at)).bind(Ts(user.updated_at))
                .execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn user_id_taken(db: &Pool, id: Uuid) -> StoreResult<bool> {
                let row: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM users WHERE id = $1").bind(id).fetch_optional(db).await?;
                Ok(row.is_some())
            }

            /// Replaces the hash only while it is still `expected`: a rehash at sign-in never
            /// undoes a password change that committed meanwhile.
            pub(crate) async fn replace_password_hash(
                tx: &mut Tx,
                app_id: Uuid,
                user_id: Uuid,
                expected: &str,
                hash: &str,
                at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE users SET password_hash = $4, updated_at = $5 WHERE app_id = $1 AND id = $2 AND password_hash = $3",
                )
                .bind(app_id).bind(user_id).bind(expected).bind(hash).bind(Ts(at))
                .execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn update_user(tx: &mut Tx, user: &User) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE users SET display_name = $3, role_id = $4, status = $5, updated_at = $6 WHERE app_id = $1 AND id = $2",
                )
                .bind(user.app_id).bind(user.id).bind(&user.display_name).bind(user.role_id)
                .bind(user.status.as_str()).bind(Ts(user.updated_at))
                .execute(&mut **tx).await?;
                Ok(())
            }

            pub(crate) async fn delete_user(tx: &mut Tx, app_id: Uuid, id: Uuid) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM users WHERE app_id = $1 AND id = $2")
                    .bind(app_id).bind(id).execute(&mut **tx).await?;
                Ok(done.rows_affected() == 1)
            }

            pub(crate) async fn insert_contact(tx: &mut Tx, contact: &Contact) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO contacts (id, app_id, user_id, kind, value, value_normalized, is_primary, verified_at, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(contact.id).bind(contact.app_id).bind(contact.user_id).bind(contact.kind.as_str())
                .bind(&contact.value).bind(contact.value.to_lowercase()).bind(contact.is_primary)
                .bind(contact.verified_at.map(Ts)).bind(Ts(contact.created_at))
                .execute(&mut **tx).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use users;
