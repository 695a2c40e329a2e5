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
use serde_json::Value;

use super::error::{ApiJson, ApiResult};
use super::extract::{Bearer, ManagedBy, Meta};

async fn end_user(s: &AppState, slug: &str, token: &str) -> ApiResult<Principal> {
    Ok(s.engine.authenticate(slug, token).await?)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = OrgsCreateBody)]
pub struct CreateBody {
    name: String,
    slug: Option<String>,
    metadata: Option<Value>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = OrgsPatchBody)]
pub struct PatchBody {
    name: Option<String>,
    slug: Option<String>,
    metadata: Option<Value>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AddMemberBody {
    #[serde(alias = "userId")]
    user_id: String,
    #[serde(default, alias = "roleName", alias = "role_name")]
    role: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = OrgsRoleBody)]
pub struct RoleBody {
    #[serde(alias = "roleName", alias = "role_name")]
    role: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = OrgsInviteBody)]
pub struct InviteBody {
    email: String,
    #[serde(default, alias = "roleName", alias = "role_name")]
    role: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = OrgsCodeBody)]
pub struct CodeBody {
    code: String,
}

/// `org_id` (or seed 003's `organizationId`); `null` or missing leaves every organization.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct SwitchBody {
    #[serde(default, alias = "orgId", alias = "organization_id", alias = "organizationId")]
    org_id: Option<String>,
    /// The caller's refresh token of the same session, rotated into the answer's pair.
    #[serde(alias = "refreshToken")]
    refresh_token: String,
    #[serde(default, alias = "appId")]
    app_id: Option<String>,
    #[serde(default, alias = "appSecret")]
    #[schema(value_type = Option<String>, format = Password)]
    app_secret: Option<secrecy::SecretString>,
}

/// The end-user's organizations, and the one its session acts in.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct MyOrganizations {
    organizations: Vec<OrgView>,
    active_organization_id: Option<uuid::Uuid>,
}

/// `GET orgs` and `GET me/organizations`: the caller's organizations with its role in each.
#[utoipa::path(
    get,
    path = "/{slug}/v1/orgs",
    operation_id = "orgs_mine",
    tag = "organizations",
    responses((status = 200, description = "The end-user's organizations with its role in each", body = MyOrganizations)),
    security(("bearer" = []))
)]
pub async fn mine(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<MyOrganizations>> {
    let me = end_user(&s, &slug, &token).await?;
    let organizations = s.engine.my_orgs(&me).await?;
    Ok(Json(MyOrganizations { organizations, active_organization_id: me.active_org_id() }))
}

/// `GET me/organizations`: the same as `GET orgs`, under the end-user's own paths.
#[utoipa::path(
    get,
    path = "/{slug}/v1/me/organizations",
    operation_id = "orgs_my_organizations",
    tag = "consumer me",
    responses((status = 200, description = "The end-user's organizations with its role in each", body = MyOrganizations))
)]
pub async fn my_organizations(
    state: State<AppState>,
    slug: Path<String>,
    bearer: Bearer,
) -> ApiResult<Json<MyOrganizations>> {
    mine(state, slug, bearer).await
}

#[utoipa::path(
    post,
    path = "/{slug}/v1/orgs",
    operation_id = "orgs_create",
    tag = "organizations",
    request_body(content = CreateBody),
    responses((status = 201, description = "Created", body = OrgView)),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    get,
    path = "/{slug}/v1/orgs/{id}",
    operation_id = "orgs_get",
    tag = "organizations",
    responses((status = 200, description = "OK", body = OrgView)),
    security(("bearer" = []))
)]
pub async fn get(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<Json<OrgView>> {
    let me = end_user(&s, &slug, &token).await?;
    Ok(Json(s.engine.my_org(&me, &id).await?))
}

#[utoipa::path(
    patch,
    path = "/{slug}/v1/orgs/{id}",
    operation_id = "orgs_update",
    tag = "organizations",
    request_body(content = PatchBody),
    responses((status = 200, description = "OK", body = OrgView)),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    delete,
    path = "/{slug}/v1/orgs/{id}",
    operation_id = "orgs_delete",
    tag = "organizations",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []))
)]
pub async fn delete(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<StatusCode> {
    let me = end_user(&s, &slug, &token).await?;
    s.engine.delete_org(&me, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct OrgMemberList {
    members: Vec<domain::engine::MemberView>,
}

#[utoipa::path(
    get,
    path = "/{slug}/v1/orgs/{id}/members",
    operation_id = "orgs_members",
    tag = "consumer me",
    responses((status = 200, description = "The organization's members", body = OrgMemberList)),
    security(("bearer" = []))
)]
pub async fn members(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<Json<OrgMemberList>> {
    let me = end_user(&s, &slug, &token).await?;
    Ok(Json(OrgMemberList { members: s.engine.my_org_members(&me, &id).await? }))
}

#[utoipa::path(
    post,
    path = "/{slug}/v1/orgs/{id}/members",
    operation_id = "orgs_add_member",
    tag = "consumer me",
    request_body(content = AddMemberBody),
    responses((status = 201, description = "Created", body = MemberView)),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    patch,
    path = "/{slug}/v1/orgs/{id}/members/{user_id}",
    operation_id = "orgs_set_member_role",
    tag = "consumer me",
    request_body(content = RoleBody),
    responses((status = 200, description = "OK", body = MemberView)),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    delete,
    path = "/{slug}/v1/orgs/{id}/members/{user_id}",
    operation_id = "orgs_remove_member",
    tag = "consumer me",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []))
)]
pub async fn remove_member(
    State(s): State<AppState>,
    Path((slug, id, user_id)): Path<(String, String, String)>,
    Bearer(token): Bearer,
) -> ApiResult<StatusCode> {
    let me = end_user(&s, &slug, &token).await?;
    s.engine.remove_org_member(&me, &id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/{slug}/v1/orgs/{id}/invites",
    operation_id = "orgs_invite",
    tag = "organizations",
    request_body(content = InviteBody),
    responses((status = 201, description = "Created", body = OrgInviteView)),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/accept-org-invite",
    operation_id = "orgs_accept_invite",
    tag = "organizations",
    request_body(content = CodeBody),
    responses((status = 200, description = "OK", body = OrgView)),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    post,
    path = "/{slug}/v1/auth/switch-organization",
    operation_id = "orgs_switch",
    tag = "organizations",
    request_body(content = SwitchBody),
    responses((status = 200, description = "OK", body = TokenPair)),
    security(("bearer" = []))
)]
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[serde(alias = "q")]
    search: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/organizations",
    operation_id = "orgs_admin_list",
    tag = "organizations",
    params(ListQuery),
    responses((status = 200, description = "OK", body = OrgPage)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn admin_list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<OrgPage>> {
    Ok(Json(s.engine.list_orgs(&c, &slug, q.search.as_deref(), q.cursor.as_deref(), q.limit).await?))
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/organizations/{id}",
    operation_id = "orgs_admin_get",
    tag = "organizations",
    responses((status = 200, description = "OK", body = OrgView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn admin_get(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<OrgView>> {
    Ok(Json(s.engine.get_org(&c, &slug, &id).await?))
}

#[utoipa::path(
    delete,
    path = "/apps/{slug}/organizations/{id}",
    operation_id = "orgs_admin_delete",
    tag = "organizations",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn admin_delete(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.delete_org_as_admin(&c, &slug, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct AdminOrgMemberList {
    members: Vec<domain::engine::MemberView>,
}

#[utoipa::path(
    get,
    path = "/apps/{slug}/organizations/{id}/members",
    operation_id = "orgs_admin_members",
    tag = "organizations",
    responses((status = 200, description = "The organization's members", body = AdminOrgMemberList)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn admin_members(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<AdminOrgMemberList>> {
    Ok(Json(AdminOrgMemberList { members: s.engine.org_members(&c, &slug, &id).await? }))
}

#[utoipa::path(
    delete,
    path = "/apps/{slug}/organizations/{id}/members/{user_id}",
    operation_id = "orgs_admin_remove_member",
    tag = "organizations",
    responses((status = 204, description = "Done: no body")),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn admin_remove_member(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id, user_id)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.engine.remove_org_member_as_admin(&c, &slug, &id, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
