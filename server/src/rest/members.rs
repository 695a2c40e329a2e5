//! App members: the accounts managing an app, their invites, and accepting one.

use app::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use domain::engine::{InviteView, MemberInviteInput, RoleChoice};
use serde::Deserialize;
use shared::members::{MemberInviteInfo, MemberView};

use super::error::{ApiJson, ApiResult};
use super::extract::{Account, ManagedBy, Meta};

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MemberList {
    members: Vec<shared::members::MemberView>,
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/members",
    operation_id = "members_list",
    tag = "access",
    responses((status = 200, description = "The app's members (accounts) with their roles", body = MemberList)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<MemberList>> {
    Ok(Json(MemberList { members: s.engine.list_members(&c, &slug).await? }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = MembersInviteBody)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    email: String,
    #[serde(default, rename = "roleName", alias = "role_name", alias = "role")]
    role_name: Option<String>,
    #[serde(default, rename = "roleId", alias = "role_id")]
    role_id: Option<String>,
    #[serde(default, rename = "expiresInHours", alias = "expires_in_hours")]
    expires_in_hours: Option<i64>,
}

#[utoipa::path(
    post,
    path = "/apps/{slug}/members",
    operation_id = "members_invite",
    tag = "access",
    request_body(content = InviteBody),
    responses((status = 201, description = "Created", body = InviteView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn invite(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<InviteBody>,
) -> ApiResult<(StatusCode, Json<InviteView>)> {
    let input = MemberInviteInput {
        email: b.email,
        role_name: b.role_name,
        role_id: b.role_id,
        expires_in_hours: b.expires_in_hours,
    };
    Ok((StatusCode::CREATED, Json(s.engine.invite_member(&c, &slug, input).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = MembersRoleBody)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    #[serde(default, rename = "roleName", alias = "role_name", alias = "role")]
    role_name: Option<String>,
    #[serde(default, rename = "roleId", alias = "role_id")]
    role_id: Option<String>,
}

#[utoipa::path(
    patch,
    path = "/apps/{slug}/members/{account_id}",
    operation_id = "members_change_role",
    tag = "access",
    request_body(content = RoleBody),
    responses((status = 200, description = "OK", body = MemberView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn change_role(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, account_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<RoleBody>,
) -> ApiResult<Json<MemberView>> {
    let choice = RoleChoice::from_fields(b.role_name, b.role_id)?;
    Ok(Json(s.engine.change_member_role(&c, &slug, &account_id, choice).await?))
}

/// Removes a member; the caller's own id leaves the app.
#[utoipa::path(
    delete,
    path = "/apps/{slug}/members/{account_id}",
    operation_id = "members_remove",
    tag = "access",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn remove(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, account_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.remove_member(&c, &slug, &account_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MemberInviteList {
    invites: Vec<domain::engine::InviteView>,
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/members/invites",
    operation_id = "members_list_invites",
    tag = "access",
    responses((status = 200, description = "The pending member invites", body = MemberInviteList)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list_invites(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Json<MemberInviteList>> {
    Ok(Json(MemberInviteList { invites: s.engine.list_member_invites(&c, &slug).await? }))
}

#[utoipa::path(
    delete,
    path = "/apps/{slug}/members/invites/{id}",
    operation_id = "members_revoke_invite",
    tag = "access",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn revoke_invite(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.revoke_member_invite(&c, &slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = MembersCodeBody)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    code: String,
}

/// `POST /api/v1/member-invites/accept` `{code}` with the account's bearer.
#[utoipa::path(
    post,
    path = "/member-invites/accept",
    operation_id = "members_accept",
    tag = "access",
    request_body(content = CodeBody),
    responses((status = 200, description = "OK", body = MemberInviteInfo)),
    security(("bearer" = []))
)]
pub async fn accept(
    State(s): State<AppState>,
    Account(account): Account,
    meta: Meta,
    ApiJson(b): ApiJson<CodeBody>,
) -> ApiResult<Json<MemberInviteInfo>> {
    Ok(Json(s.engine.accept_member_invite(&account, &b.code, &meta.0).await?))
}

/// `POST /api/v1/member-invites/lookup` `{code}`: what the code opens, consuming nothing (a
/// POST, so the code stays out of URLs and logs).
#[utoipa::path(
    post,
    path = "/member-invites/lookup",
    operation_id = "members_lookup",
    tag = "access",
    request_body(content = CodeBody),
    responses((status = 200, description = "OK", body = MemberInviteInfo))
)]
pub async fn lookup(
    State(s): State<AppState>,
    meta: Meta,
    ApiJson(b): ApiJson<CodeBody>,
) -> ApiResult<Json<MemberInviteInfo>> {
    Ok(Json(s.engine.member_invite_info(&b.code, &meta.0).await?))
}
