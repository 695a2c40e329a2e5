//! An app's end-users as JSON lines, for its owners: `GET /api/v1/apps/{slug}/end-users/export`
//! streams them out a page at a time; `POST …/end-users/import` reads the body as it arrives
//! (never whole) and answers what it did. The format is the README's "Moving users in and out".

use app::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::engine::{ImportSummary, LineSplitter};
use futures_util::StreamExt;

use super::error::{error_response, ApiResult};
use super::extract::ManagedBy;

/// The most an import request may carry. Its own limit (the API's is `MAX_BODY_BYTES`): the
/// body is read a chunk at a time, so memory does not grow with it.
pub const IMPORT_MAX_BYTES: u64 = 1 << 30;

/// Whether a request is an import, whose body `limit_bodies` leaves to the handler.
pub fn is_import(method: &axum::http::Method, path: &str) -> bool {
    let path = path.strip_prefix("/api").unwrap_or(path);
    let Some(rest) = path.strip_prefix("/v1/apps/") else { return false };
    method == axum::http::Method::POST
        && rest.strip_suffix("/end-users/import").is_some_and(|slug| !slug.is_empty() && !slug.contains('/'))
}

/// `GET /api/v1/apps/{slug}/end-users/export`: the app's end-users as JSON lines, streamed.
#[utoipa::path(
    get,
    path = "/apps/{slug}/end-users/export",
    operation_id = "transfer_export",
    tag = "end-users",
    responses((status = 200, description = "A header line, then one line per end-user with its contacts, role, organizations and password hash; streamed", content_type = "application/x-ndjson", body = String)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn export(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
) -> ApiResult<Response> {
    let export = s.engine.start_export(&c, &slug).await?;
    let engine = s.engine.clone();
    let chunks = futures_util::stream::try_unfold(export, move |mut export| {
        let engine = engine.clone();
        async move {
            let chunk = engine.export_chunk(&mut export).await.inspect_err(|e| {
                tracing::error!(error = ?e, "user export stopped");
            })?;
            Ok::<_, domain::Error>(chunk.map(|c| (Bytes::from(c), export)))
        }
    });
    let filename = format!("attachment; filename=\"end-users-{slug}.jsonl\"");
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson".to_owned()), (header::CONTENT_DISPOSITION, filename)],
        Body::from_stream(chunks),
    )
        .into_response())
}

/// `POST /api/v1/apps/{slug}/end-users/import`: JSON lines in the export's format (streamed,
/// idempotent: a rerun updates, never duplicates).
#[utoipa::path(
    post,
    path = "/apps/{slug}/end-users/import",
    operation_id = "transfer_import",
    tag = "end-users",
    request_body(content = String, content_type = "application/x-ndjson", description = "The export's lines"),
    responses((status = 200, description = "What the run did", body = domain::engine::ImportSummary)),
    security(("bearer" = []), ("api_key" = []))
)]
pub async fn import(
    State(s): State<AppState>,
    ManagedBy(c): ManagedBy,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let too_large = |summary: Option<&ImportSummary>| {
        let done = summary.map_or(String::new(), |s| {
            format!(
                " (the {} lines before the limit were imported: {} created, {} updated)",
                s.lines, s.created, s.updated
            )
        });
        let message = format!("An import may be at most {IMPORT_MAX_BYTES} bytes{done}");
        error_response(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", &message)
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > IMPORT_MAX_BYTES) {
        return Ok(too_large(None));
    }
    let mut import = s.engine.start_import(&c, &slug).await?;
    let mut lines = LineSplitter::default();
    let mut stream = body.into_data_stream();
    let mut read = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| domain::Error::invalid("The request body could not be read"))?;
        read += chunk.len() as u64;
        if read > IMPORT_MAX_BYTES {
            let summary = import.finish().await?;
            return Ok(too_large(Some(&summary)));
        }
        for item in lines.push(&chunk) {
            import.feed(item).await?;
        }
        // The summary lists them; nothing here reports them one by one.
        import.drain_failures();
    }
    if let Some(item) = lines.finish() {
        import.feed(item).await?;
    }
    Ok(Json(import.finish().await?).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn import_paths() {
        let post = axum::http::Method::POST;
        assert!(super::is_import(&post, "/api/v1/apps/acme/end-users/import"));
        assert!(super::is_import(&post, "/v1/apps/acme/end-users/import"));
        for path in ["/api/v1/apps//end-users/import", "/api/v1/apps/a/b/end-users/import", "/acme/v1/end-users/import"]
        {
            assert!(!super::is_import(&post, path), "{path}");
        }
        assert!(!super::is_import(&axum::http::Method::GET, "/api/v1/apps/acme/end-users/import"));
    }
}
