//! Organizations inside an app. End-users' (`/{slug}/v1/orgs…`, `me/organizations`,
//! `auth/switch-organization`, `auth/accept-org-invite`, with their bearer) and the
//! management API's (`/api/v1/apps/{slug}/organizations…`, `org.read` / `org.update`).

use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use domain::engine::{MemberView, OrgInput, OrgInviteView, OrgPage, OrgPatch, OrgView, Principal};
use domain::tokens::TokenPair;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::{ApiJson, ApiResult};
use super::extract::{Bearer, ManagedBy, Meta};

async fn end_user(s: &AppState, slug: &str, token: &str) -> ApiResult<Principal> {
    Ok(s.engine.authenticate(slug, token).await?)
}

#[derive(Deserialize)]
pub struct CreateBody {
    name: String,
    slug: Option<String>,
    metadata: Option<Value>,
}

#[derive(Deserialize)]
pub struct PatchBody {
    name: Option<String>,
    slug: Option<String>,
    metadata: Option<Value>,
}

#[derive(Deserialize)]
pub struct AddMemberBody {
    #[serde(alias = "userId")]
    user_id: String,
    #[serde(default, alias = "roleName", alias = "role_name")]
    role: Option<String>,
}

#[derive(Deserialize)]
pub struct RoleBody {
    #[serde(alias = "roleName", alias = "role_name")]
    role: String,
}

#[derive(Deserialize)]
pub struct InviteBody {
    email: String,
    #[serde(default, alias = "roleName", alias = "role_name")]
    role: Option<String>,
}

#[derive(Deserialize)]
pub struct CodeBody {
    code: String,
}

/// `org_id` (or seed 003's `organizationId`); `null` or missing leaves every organization.
#[derive(Deserialize)]
pub struct SwitchBody {
    #[serde(default, alias = "orgId", alias = "organization_id", alias = "organizationId")]
    org_id: Option<String>,
    /// The caller's refresh token of the same session, rotated into the answer's pair.
    #[serde(alias = "refreshToken")]
    refresh_token: String,
    #[serde(default, alias = "appId")]
    app_id: Option<String>,
    #[serde(default, alias = "appSecret")]
    app_secret: Option<secrecy::SecretString>,
}

/// `GET orgs` and `GET me/organizations`: the caller's organizations with its role in each.
pub async fn mine(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<Value>> {
    let me = end_user(&s, &slug, &token).await?;
    let orgs = s.engine.my_orgs(&me).await?;
    Ok(Json(json!({ "organizations": orgs, "active_organization_id": me.active_org_id() })))
}

pub async fn create(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
    ApiJson(b): ApiJson<CreateBody>,
) -> ApiResult<(StatusCode, Json<OrgView>)> {
    let me = end_user(&s, &slug, &token).await?;
    let input = OrgInput { name: b.name, slug: b.slug, metadata: b.metadata };
    Ok((StatusCode::CREATED, Json(s.engine.create_org(&me, input).await?)))
}

pub async fn get(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<Json<OrgView>> {
    let me = end_user(&s, &slug, &token).await?;
    Ok(Json(s.engine.my_org(&me, &id).await?))
}

pub async fn update(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
    ApiJson(b): ApiJson<PatchBody>,
) -> ApiResult<Json<OrgView>> {
    let me = end_user(&s, &slug, &token).await?;
    let patch = OrgPatch { name: b.name, slug: b.slug, metadata: b.metadata };
    Ok(Json(s.engine.update_org(&me, &id, patch).await?))
}

pub async fn delete(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<StatusCode> {
    let me = end_user(&s, &slug, &token).await?;
    s.engine.delete_org(&me, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn members(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<Json<Value>> {
    let me = end_user(&s, &slug, &token).await?;
    Ok(Json(json!({ "members": s.engine.my_org_members(&me, &id).await? })))
}

pub async fn add_member(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
    ApiJson(b): ApiJson<AddMemberBody>,
) -> ApiResult<(StatusCode, Json<MemberView>)> {
    let me = end_user(&s, &slug, &token).await?;
    let member = s.engine.add_org_member(&me, &id, &b.user_id, b.role.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(member)))
}

pub async fn set_member_role(
    State(s): State<AppState>,
    Path((slug, id, user_id)): Path<(String, String, String)>,
    Bearer(token): Bearer,
    ApiJson(b): ApiJson<RoleBody>,
) -> ApiResult<Json<MemberView>> {
    let me = end_user(&s, &slug, &token).await?;
    Ok(Json(s.engine.set_org_member_role(&me, &id, &user_id, &b.role).await?))
}

/// Removes a member; with the caller's own id, leaves the organization.
pub async fn remove_member(
    State(s): State<AppState>,
    Path((slug, id, user_id)): Path<(String, String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<StatusCode> {
    let me = end_user(&s, &slug, &token).await?;
    s.engine.remove_org_member(&me, &id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn invite(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
    ApiJson(b): ApiJson<InviteBody>,
) -> ApiResult<(StatusCode, Json<OrgInviteView>)> {
    let me = end_user(&s, &slug, &token).await?;
    Ok((StatusCode::CREATED, Json(s.engine.invite_to_org(&me, &id, &b.email, b.role.as_deref()).await?)))
}

/// `POST auth/accept-org-invite {code}` with the invitee's bearer.
pub async fn accept_invite(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
    meta: Meta,
    ApiJson(b): ApiJson<CodeBody>,
) -> ApiResult<Json<OrgView>> {
    let me = end_user(&s, &slug, &token).await?;
    Ok(Json(s.engine.accept_org_invite(&me, &b.code, &meta.0).await?))
}

/// `POST auth/switch-organization {org_id, refresh_token}` → a new token pair of the same
/// session (the refresh token rotated, as `auth/refresh` would).
pub async fn switch(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
    ApiJson(b): ApiJson<SwitchBody>,
) -> ApiResult<Json<TokenPair>> {
    let me = end_user(&s, &slug, &token).await?;
    let credentials = (b.app_id.is_some() || b.app_secret.is_some()).then(|| domain::engine::AppCredentials {
        app_id: b.app_id.clone().unwrap_or_default(),
        app_secret: b.app_secret.clone().unwrap_or_else(|| secrecy::SecretString::from(String::new())),
    });
    Ok(Json(s.engine.switch_org(&me, b.org_id.as_deref(), &b.refresh_token, credentials.as_ref()).await?))
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(alias = "q")]
    search: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

pub async fn admin_list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<OrgPage>> {
    Ok(Json(s.engine.list_orgs(&c, &slug, q.search.as_deref(), q.cursor.as_deref(), q.limit).await?))
}

pub async fn admin_get(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<OrgView>> {
    Ok(Json(s.engine.get_org(&c, &slug, &id).await?))
}

pub async fn admin_delete(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.delete_org_as_admin(&c, &slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn admin_members(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!({ "members": s.engine.org_members(&c, &slug, &id).await? })))
}

pub async fn admin_remove_member(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id, user_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.remove_org_member_as_admin(&c, &slug, &id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
