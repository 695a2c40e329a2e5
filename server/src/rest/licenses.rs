//! License keys (seed 002 "04 — License Keys"): managed under `/api/v1/apps/{slug}/licenses`
//! (`license.*` permissions), activated, verified and deactivated by an app's backend under
//! `/{slug}/v1/licenses/*` with its `app_id` + `app_secret` in the body, and a user's
//! entitlements at `/{slug}/v1/me/entitlements`.

use app::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::engine::{
    ActivatedLicense, AppCredentials, Deactivated, Entitlement, LicenseQuery, LicenseVerification, NewLicense,
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use shared::{IssuedLicense, LicenseDetail, LicensePage, LicenseView};

use super::error::{ApiJson, ApiResult};
use super::extract::{Bearer, ManagedBy, Meta};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    #[serde(alias = "productId")]
    product_id: String,
    #[serde(default, alias = "userId")]
    user_id: Option<String>,
    #[serde(default, alias = "orgId")]
    org_id: Option<String>,
    #[serde(default, alias = "expiresAt", with = "domain::time_format::option")]
    expires_at: Option<DateTime<Utc>>,
    #[serde(alias = "maxActivations")]
    max_activations: i64,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendBody {
    #[serde(alias = "expiresAt", with = "domain::time_format")]
    expires_at: DateTime<Utc>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[serde(alias = "productId", alias = "product")]
    product_id: Option<String>,
    #[serde(alias = "userId")]
    user_id: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// `POST /api/v1/apps/{slug}/licenses` → the license and its key, shown this once.
#[utoipa::path(
    post,
    path = "/apps/{slug}/licenses",
    operation_id = "licenses_issue",
    tag = "licenses",
    request_body(content = IssueBody),
    responses((status = 201, description = "Created", body = IssuedLicense)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn issue(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    ApiJson(b): ApiJson<IssueBody>,
) -> ApiResult<(StatusCode, Json<IssuedLicense>)> {
    let input = NewLicense {
        product_id: b.product_id,
        user_id: b.user_id,
        org_id: b.org_id,
        expires_at: b.expires_at,
        max_activations: b.max_activations,
        metadata: b.metadata,
    };
    Ok((StatusCode::CREATED, Json(s.engine.issue_license(&c, &slug, input).await?)))
}

/// `GET /api/v1/apps/{slug}/licenses?product_id=&user_id=&status=&cursor=&limit=`.
#[utoipa::path(
    get,
    path = "/apps/{slug}/licenses",
    operation_id = "licenses_list",
    tag = "licenses",
    params(ListQuery),
    responses((status = 200, description = "OK", body = LicensePage)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn list(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<LicensePage>> {
    let query = LicenseQuery {
        product_id: q.product_id,
        user_id: q.user_id,
        status: q.status,
        cursor: q.cursor,
        limit: q.limit,
    };
    Ok(Json(s.engine.list_licenses(&c, &slug, query).await?))
}

/// `GET /api/v1/apps/{slug}/licenses/{id}` → the license with its activations.
#[utoipa::path(
    get,
    path = "/apps/{slug}/licenses/{id}",
    operation_id = "licenses_get",
    tag = "licenses",
    responses((status = 200, description = "OK", body = LicenseDetail)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn get(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<LicenseDetail>> {
    Ok(Json(s.engine.get_license(&c, &slug, &id).await?))
}

/// `POST /api/v1/apps/{slug}/licenses/{id}/revoke`.
#[utoipa::path(
    post,
    path = "/apps/{slug}/licenses/{id}/revoke",
    operation_id = "licenses_revoke",
    tag = "licenses",
    responses((status = 200, description = "OK", body = LicenseView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn revoke(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult<Json<LicenseView>> {
    Ok(Json(s.engine.revoke_license(&c, &slug, &id).await?))
}

/// `POST /api/v1/apps/{slug}/licenses/{id}/extend` `{expires_at}`.
#[utoipa::path(
    post,
    path = "/apps/{slug}/licenses/{id}/extend",
    operation_id = "licenses_extend",
    tag = "licenses",
    request_body(content = ExtendBody),
    responses((status = 200, description = "OK", body = LicenseView)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn extend(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path((slug, id)): Path<(String, String)>,
    ApiJson(b): ApiJson<ExtendBody>,
) -> ApiResult<Json<LicenseView>> {
    Ok(Json(s.engine.extend_license(&c, &slug, &id, b.expires_at).await?))
}

/// What the backend routes take: the app's credentials, the key, the device.
#[derive(Deserialize, utoipa::ToSchema)]
pub struct DeviceBody {
    #[serde(alias = "appId")]
    app_id: String,
    #[serde(alias = "appSecret")]
    #[schema(value_type = String, format = Password)]
    app_secret: SecretString,
    #[serde(alias = "licenseKey")]
    license_key: String,
    #[serde(alias = "deviceFingerprint", alias = "fingerprint")]
    device_fingerprint: String,
    #[serde(default, alias = "deviceName")]
    device_name: Option<String>,
}

impl DeviceBody {
    fn credentials(&self) -> AppCredentials {
        AppCredentials { app_id: self.app_id.clone(), app_secret: self.app_secret.clone() }
    }
}

/// `POST /{slug}/v1/licenses/activate` `{app_id, app_secret, license_key, device_fingerprint,
/// device_name}` → `{activation_id, license_token, …}`.
#[utoipa::path(
    post,
    path = "/{slug}/v1/licenses/activate",
    operation_id = "licenses_activate",
    tag = "licenses",
    request_body(content = DeviceBody),
    responses((status = 200, description = "OK", body = ActivatedLicense))
)]
pub async fn activate(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<DeviceBody>,
) -> ApiResult<Json<ActivatedLicense>> {
    let credentials = b.credentials();
    let activated = s
        .engine
        .activate_license(&slug, &credentials, &b.license_key, &b.device_fingerprint, b.device_name.as_deref(), &meta.0)
        .await?;
    Ok(Json(activated))
}

/// `POST /{slug}/v1/licenses/verify` `{app_id, app_secret, license_key, device_fingerprint}`
/// → `{valid, status, …}`.
#[utoipa::path(
    post,
    path = "/{slug}/v1/licenses/verify",
    operation_id = "licenses_verify",
    tag = "licenses",
    request_body(content = DeviceBody),
    responses((status = 200, description = "OK", body = LicenseVerification))
)]
pub async fn verify(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<DeviceBody>,
) -> ApiResult<Json<LicenseVerification>> {
    let credentials = b.credentials();
    Ok(Json(s.engine.verify_license(&slug, &credentials, &b.license_key, &b.device_fingerprint, &meta.0).await?))
}

/// `POST /{slug}/v1/licenses/deactivate` `{app_id, app_secret, license_key, device_fingerprint}`.
#[utoipa::path(
    post,
    path = "/{slug}/v1/licenses/deactivate",
    operation_id = "licenses_deactivate",
    tag = "licenses",
    request_body(content = DeviceBody),
    responses((status = 200, description = "OK", body = Deactivated))
)]
pub async fn deactivate(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    meta: Meta,
    ApiJson(b): ApiJson<DeviceBody>,
) -> ApiResult<Json<Deactivated>> {
    let credentials = b.credentials();
    Ok(Json(s.engine.deactivate_license(&slug, &credentials, &b.license_key, &b.device_fingerprint, &meta.0).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Entitlements {
    entitlements: Vec<Entitlement>,
}

/// `GET /{slug}/v1/me/entitlements` → the caller's active licenses.
#[utoipa::path(
    get,
    path = "/{slug}/v1/me/entitlements",
    operation_id = "licenses_my_entitlements",
    tag = "licenses",
    responses((status = 200, description = "OK", body = Entitlements)),
    security(("bearer" = []))
)]
pub async fn my_entitlements(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Bearer(token): Bearer,
) -> ApiResult<Json<Entitlements>> {
    let me = s.engine.authenticate(&slug, &token).await?;
    Ok(Json(Entitlements { entitlements: s.engine.my_entitlements(&me).await? }))
}
