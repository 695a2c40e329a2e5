//! Managing one app: `/api/v1/apps/{slug}/config`, `/roles`, `/permissions`, `/end-users`,
//! `/api-keys`. Callers are accounts (through their membership role) or the app's API keys
//! (through their scopes); `Engine::authorize` decides.

use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::engine::{ApiKeyView, NewApiKey, NewRole, RolePatch, SessionView, UserPage, UserPatch, UserView};
use domain::model::{AuthConfig, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::error::{ApiJson, ApiResult};
use super::extract::ManagedBy;

type Caller = ManagedBy;

#[utoipa::path(
    get,
    path = "/apps/{slug}/config",
    operation_id = "manage_get_config",
    tag = "apps",
    responses((status = 200, description = "OK", body = AuthConfig)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn get_config(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<AuthConfig>> {
    Ok(Json(s.engine.config(&c, &slug).await?))
}

#[utoipa::path(
    patch,
    path = "/apps/{slug}/config",
    operation_id = "manage_patch_config",
    tag = "apps",
    request_body(content = serde_json::Map<String, serde_json::Value>),
    responses((status = 200, description = "OK", body = AuthConfig)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn patch_config(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path(slug): Path<String>,
    ApiJson(patch): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<AuthConfig>> {
    Ok(Json(s.engine.update_config(&c, &slug, &patch).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    id: Uuid,
    name: String,
    description: String,
    is_system: bool,
    permissions: Vec<String>,
    #[serde(with = "domain::time_format")]
    created_at: DateTime<Utc>,
}

impl From<Role> for RoleView {
    fn from(r: Role) -> Self {
        RoleView {
            id: r.id,
            name: r.name,
            description: r.description,
            is_system: r.is_system,
            permissions: r.permissions,
            created_at: r.created_at,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoleList {
    roles: Vec<RoleView>,
}

pub fn role_list(roles: Vec<Role>) -> RoleList {
    RoleList { roles: roles.into_iter().map(Into::into).collect() }
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateRoleBody {
    name: String,
    description: Option<String>,
    #[serde(default)]
    permissions: Vec<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchRoleBody {
    description: Option<String>,
    permissions: Option<Vec<String>>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteRoleQuery {
    #[serde(alias = "reassignTo")]
    reassign_to: Option<String>,
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/roles",
    operation_id = "manage_list_roles",
    tag = "access",
    responses((status = 200, description = "OK", body = RoleList)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list_roles(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<RoleList>> {
    Ok(Json(role_list(s.engine.roles(&c, &slug).await?)))
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/roles/{name}",
    operation_id = "manage_get_role",
    tag = "access",
    responses((status = 200, description = "OK", body = RoleView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn get_role(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path((slug, name)): Path<(String, String)>,
) -> ApiResult<Json<RoleView>> {
    Ok(Json(s.engine.role(&c, &slug, &name).await?.into()))
}

#[utoipa::path(
    post,
    path = "/apps/{slug}/roles",
    operation_id = "manage_create_role",
    tag = "access",
    request_body(content = CreateRoleBody),
    responses((status = 201, description = "Created", body = RoleView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn create_role(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<CreateRoleBody>,
) -> ApiResult<(StatusCode, Json<RoleView>)> {
    let role = s
        .engine
        .create_role(&c, &slug, NewRole { name: b.name, description: b.description, permissions: b.permissions })
        .await?;
    Ok((StatusCode::CREATED, Json(role.into())))
}

#[utoipa::path(
    patch,
    path = "/apps/{slug}/roles/{name}",
    operation_id = "manage_patch_role",
    tag = "access",
    request_body(content = PatchRoleBody),
    responses((status = 200, description = "OK", body = RoleView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn patch_role(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path((slug, name)): Path<(String, String)>,
    ApiJson(b): ApiJson<PatchRoleBody>,
) -> ApiResult<Json<RoleView>> {
    let patch = RolePatch { description: b.description, permissions: b.permissions };
    Ok(Json(s.engine.update_role(&c, &slug, &name, patch).await?.into()))
}

#[utoipa::path(
    delete,
    path = "/apps/{slug}/roles/{name}",
    operation_id = "manage_delete_role",
    tag = "access",
    params(DeleteRoleQuery),
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn delete_role(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path((slug, name)): Path<(String, String)>,
    Query(q): Query<DeleteRoleQuery>,
) -> ApiResult<StatusCode> {
    s.engine.delete_role(&c, &slug, &name, q.reassign_to.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PermissionView {
    name: String,
    description: String,
    builtin: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PermissionList {
    permissions: Vec<PermissionView>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreatePermissionBody {
    name: String,
    description: Option<String>,
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/permissions",
    operation_id = "manage_list_permissions",
    tag = "access",
    responses((status = 200, description = "OK", body = PermissionList)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list_permissions(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<PermissionList>> {
    let all = s.engine.permission_catalog(&c, &slug).await?;
    Ok(Json(PermissionList {
        permissions: all
            .into_iter()
            .map(|(name, description, builtin)| PermissionView { name, description, builtin })
            .collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/apps/{slug}/permissions",
    operation_id = "manage_create_permission",
    tag = "access",
    request_body(content = CreatePermissionBody),
    responses((status = 201, description = "Created", body = PermissionView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn create_permission(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<CreatePermissionBody>,
) -> ApiResult<(StatusCode, Json<PermissionView>)> {
    let p = s.engine.create_permission(&c, &slug, &b.name, b.description.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(PermissionView { name: p.name, description: p.description, builtin: false })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    #[serde(alias = "q")]
    search: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/end-users",
    operation_id = "manage_list_users",
    tag = "end-users",
    params(UserQuery),
    responses((status = 200, description = "OK", body = UserPage)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list_users(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path(slug): Path<String>,
    Query(q): Query<UserQuery>,
) -> ApiResult<Json<UserPage>> {
    Ok(Json(s.engine.list_users(&c, &slug, q.search.as_deref(), q.cursor.as_deref(), q.limit).await?))
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/end-users/{id}",
    operation_id = "manage_get_user",
    tag = "end-users",
    responses((status = 200, description = "OK", body = UserView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn get_user(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(s.engine.get_user(&c, &slug, &id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUserBody {
    #[serde(rename = "displayName", alias = "display_name")]
    display_name: Option<String>,
    status: Option<String>,
    #[serde(alias = "roleName")]
    role: Option<String>,
}

#[utoipa::path(
    patch,
    path = "/apps/{slug}/end-users/{id}",
    operation_id = "manage_patch_user",
    tag = "end-users",
    request_body(content = PatchUserBody),
    responses((status = 200, description = "OK", body = UserView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn patch_user(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(b): ApiJson<PatchUserBody>,
) -> ApiResult<Json<UserView>> {
    let patch = UserPatch { display_name: b.display_name, status: b.status, role: b.role };
    Ok(Json(s.engine.update_user(&c, &slug, &id, patch).await?))
}

#[utoipa::path(
    delete,
    path = "/apps/{slug}/end-users/{id}",
    operation_id = "manage_delete_user",
    tag = "end-users",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn delete_user(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.delete_user(&c, &slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionList {
    sessions: Vec<SessionView>,
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/end-users/{id}/sessions",
    operation_id = "manage_user_sessions",
    tag = "end-users",
    responses((status = 200, description = "OK", body = SessionList)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn user_sessions(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<SessionList>> {
    Ok(Json(SessionList { sessions: s.engine.user_sessions(&c, &slug, &id).await? }))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RevokedSessions {
    revoked: u64,
}

#[utoipa::path(
    delete,
    path = "/apps/{slug}/end-users/{id}/sessions",
    operation_id = "manage_revoke_user_sessions",
    tag = "end-users",
    responses((status = 200, description = "How many sessions were revoked", body = RevokedSessions)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn revoke_user_sessions(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<RevokedSessions>> {
    let revoked = s.engine.revoke_user_sessions(&c, &slug, &id).await?;
    Ok(Json(RevokedSessions { revoked }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CreateKeyBody {
    name: String,
    scopes: Vec<String>,
    #[serde(alias = "expires_in_days")]
    #[serde(rename = "expiresInDays")]
    expires_in_days: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    key: ApiKeyView,
    /// The secret: shown here once, never again.
    secret: String,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ManageKeyList)]
#[serde(rename_all = "camelCase")]
pub struct KeyList {
    api_keys: Vec<ApiKeyView>,
}

#[utoipa::path(
    post,
    path = "/apps/{slug}/api-keys",
    operation_id = "manage_create_api_key",
    tag = "access",
    request_body(content = CreateKeyBody),
    responses((status = 201, description = "Created", body = CreatedKey)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn create_api_key(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<CreateKeyBody>,
) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    let input = NewApiKey { name: b.name, scopes: b.scopes, expires_in_days: b.expires_in_days };
    let (key, secret) = s.engine.create_api_key(&c, &slug, input).await?;
    Ok((StatusCode::CREATED, Json(CreatedKey { key, secret })))
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/api-keys",
    operation_id = "manage_list_api_keys",
    tag = "access",
    responses((status = 200, description = "OK", body = KeyList)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list_api_keys(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path(slug): Path<String>,
) -> ApiResult<Json<KeyList>> {
    Ok(Json(KeyList { api_keys: s.engine.list_api_keys(&c, &slug).await? }))
}

#[utoipa::path(
    delete,
    path = "/apps/{slug}/api-keys/{id}",
    operation_id = "manage_revoke_api_key",
    tag = "access",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn revoke_api_key(
    State(s): State<AppState>,
    ManagedBy(c): Caller,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.revoke_api_key(&c, &slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
