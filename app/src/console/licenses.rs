//! The Licenses tab: the app's license keys with their status, a form to issue one (whose
//! key is shown once, with a copy button), and a page per license with its activations,
//! revoking and extending.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use shared::time_format::format;
use shared::{LicenseDetail, LicenseView};

use super::app::{permissions_resource, reset_on_success, slug_param, successes, unavailable, Perms};
use super::credentials::CopyButton;
use super::error_text;
use crate::api::{self, ExtendLicense, FreshLicense, IssueLicense, LicensesView, RevokeLicense};

#[component]
pub fn LicensesPage() -> impl IntoView {
    let slug = slug_param();
    let issue = ServerAction::<IssueLicense>::new();
    let issued = successes(issue);
    let licenses = Resource::new(
        move || (slug(), issued.get()),
        |(slug, _)| api::list_licenses(slug, String::new(), String::new()),
    );
    let permissions = permissions_resource();
    let issue_form = reset_on_success(issue);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading licenses…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match licenses.await {
                    Ok(data) => Either::Left(view! {
                        <Title text=format!("Licenses · {} · Rampart", slug())/>
                        <LicensesBoard slug=slug() data perms issue issue_form/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

/// The key of a license just issued: the one time anyone sees it.
fn key_box(fresh: FreshLicense) -> impl IntoView {
    let FreshLicense { product_id, license_key, .. } = fresh;
    view! {
        <div class="secret-box" role="status" data-testid="new-license">
            <strong>"License for “"{product_id}"” issued."</strong>
            <p>"Copy the key now: it won't be shown again. Rampart keeps only a digest of it."</p>
            <code class="secret" data-testid="license-key">{license_key.clone()}</code>
            " "
            <CopyButton text=license_key label="Copy the license key".into()/>
        </div>
    }
}

/// When a license expires, as the tables show it.
fn until(license: &LicenseView) -> String {
    license.expires_at.as_ref().map_or_else(|| "never".to_owned(), format)
}

#[component]
fn LicensesBoard(
    slug: String,
    data: LicensesView,
    perms: Perms,
    issue: ServerAction<IssueLicense>,
    issue_form: NodeRef<leptos::html::Form>,
) -> impl IntoView {
    let LicensesView { licenses, fresh, .. } = data;
    // Issued through JavaScript, the key is in the action's answer; issued by a plain form,
    // the page the browser went back to brought it.
    let issued = move || match issue.value().get() {
        Some(Ok(fresh)) => Some(key_box(fresh)),
        _ => None,
    };
    let fresh = fresh.map(key_box);
    let issue_error = error_text(issue.value());
    let list = if licenses.is_empty() {
        Either::Left(view! { <p class="empty">"No licenses yet."</p> })
    } else {
        Either::Right(view! { <LicenseTable slug=slug.clone() licenses/> })
    };
    view! {
        {fresh}
        {issued}
        <h2 class="first">"Licenses"</h2>
        <p class="muted small">
            "License keys for your products. A device activates a key through your backend "
            "(with the app's credentials) and gets a license token it can check offline against the app's JWKS."
        </p>
        {list}
        {perms.has("license.create").then(|| view! {
            <div class="card" data-testid="issue-license">
                <h2>"Issue a license"</h2>
                <ActionForm action=issue node_ref=issue_form attr:class="stack">
                    <input type="hidden" name="slug" value=slug.clone()/>
                    <label>"Product"<input type="text" name="product_id" placeholder="pro_yearly" maxlength="128" required/></label>
                    <label>
                        "End-user id"
                        <input type="text" name="user_id" placeholder="optional"/>
                        <span class="hint">"The end-user it entitles (their id from the End-users tab); blank for none."</span>
                    </label>
                    <label>
                        "Expires on"
                        <input type="date" name="expires_on"/>
                        <span class="hint">"Leave blank for a license that does not expire."</span>
                    </label>
                    <label>
                        "Max activations"
                        <input type="number" name="max_activations" min="1" max="10000" step="1" value="1" required/>
                    </label>
                    <p class="error" role="alert">{issue_error}</p>
                    <button type="submit" class="primary" disabled=move || issue.pending().get()>"Issue license"</button>
                </ActionForm>
            </div>
        })}
    }
}

#[component]
fn LicenseTable(slug: String, licenses: Vec<LicenseView>) -> impl IntoView {
    let rows = licenses
        .into_iter()
        .map(|l| {
            let href = format!("/console/apps/{slug}/licenses/{}", l.id);
            let (testid, prefix) = (format!("license-{}", l.key_prefix), format!("{}-…", l.key_prefix));
            view! {
                <tr data-testid=testid>
                    <td><A href=href><code>{prefix}</code></A></td>
                    <td><strong>{l.product_id.clone()}</strong></td>
                    <td class="muted small">{l.user_id.map(|u| u.to_string()).unwrap_or_else(|| "—".into())}</td>
                    <td>{format!("{} / {}", l.activation_count, l.max_activations)}</td>
                    <td class="muted">{until(&l)}</td>
                    <td><span class=format!("badge {}", l.status)>{l.status.clone()}</span></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list" data-testid="licenses">
            <thead><tr><th>"Key"</th><th>"Product"</th><th>"End-user"</th><th>"Devices"</th><th>"Expires"</th><th>"Status"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
pub fn LicensePage() -> impl IntoView {
    let slug = slug_param();
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let revoke = ServerAction::<RevokeLicense>::new();
    let extend = ServerAction::<ExtendLicense>::new();
    let changes = (successes(revoke), successes(extend));
    let detail = Resource::new(
        move || (slug(), id(), changes.0.get(), changes.1.get()),
        |(slug, id, ..)| api::get_license(slug, id),
    );
    let permissions = permissions_resource();
    view! {
        <nav class="back"><A href=move || format!("/console/apps/{}/licenses", slug())>"← All licenses"</A></nav>
        <Transition fallback=|| view! { <p class="muted">"Loading the license…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match detail.await {
                    Ok(detail) => Either::Left(view! {
                        <Title text=format!("{} · Licenses · Rampart", detail.license.key_prefix)/>
                        <LicenseDetailView slug=slug() detail perms revoke extend/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

#[component]
fn LicenseDetailView(
    slug: String,
    detail: LicenseDetail,
    perms: Perms,
    revoke: ServerAction<RevokeLicense>,
    extend: ServerAction<ExtendLicense>,
) -> impl IntoView {
    let LicenseDetail { license: l, activations } = detail;
    let error = move || error_text(revoke.value())().or_else(error_text(extend.value()));
    let slug = StoredValue::new(slug);
    let id = StoredValue::new(l.id.to_string());
    let revocable = l.status != "revoked";
    let manage = view! {
        {(perms.has("license.create") && revocable).then(|| view! {
            <ActionForm action=extend attr:class="inline-form" attr:data-testid="extend-license">
                <input type="hidden" name="slug" value=slug.get_value()/>
                <input type="hidden" name="id" value=id.get_value()/>
                <label>"New expiry"<input type="date" name="expires_on" required/></label>
                <button type="submit" disabled=move || extend.pending().get()>"Extend"</button>
            </ActionForm>
        })}
        {(perms.has("license.revoke") && revocable).then(|| view! {
            <ActionForm action=revoke attr:class="stack tight">
                <input type="hidden" name="slug" value=slug.get_value()/>
                <input type="hidden" name="id" value=id.get_value()/>
                <button type="submit" class="danger" disabled=move || revoke.pending().get()>"Revoke license"</button>
                <span class="hint">"Every device stops verifying online at once; offline tokens run out within 14 days."</span>
            </ActionForm>
        })}
    };
    let rows = activations
        .into_iter()
        .map(|a| {
            let state = if a.deactivated_at.is_some() { "revoked" } else { "active" };
            view! {
                <tr>
                    <td><code>{a.device_fingerprint}</code></td>
                    <td>{a.device_name.unwrap_or_default()}</td>
                    <td class="muted">{format(&a.activated_at)}</td>
                    <td class="muted">{a.last_verified_at.map_or_else(|| "never".to_owned(), |t| format(&t))}</td>
                    <td>
                        <span class=format!("badge {state}")>{if a.deactivated_at.is_some() { "deactivated" } else { "active" }}</span>
                        {a.deactivated_at.map(|t| view! { <div class="muted small nowrap">{format(&t)}</div> })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2 class="first">"License "<code>{l.key_prefix.clone()}"-…"</code></h2>
        <dl class="facts" data-testid="license-facts">
            <dt>"Product"</dt><dd>{l.product_id.clone()}</dd>
            <dt>"Status"</dt><dd><span class=format!("badge {}", l.status) data-testid="license-status">{l.status.clone()}</span></dd>
            <dt>"End-user"</dt><dd>{l.user_id.map(|u| u.to_string()).unwrap_or_else(|| "—".into())}</dd>
            <dt>"Devices"</dt><dd>{format!("{} of {}", l.activation_count, l.max_activations)}</dd>
            <dt>"Expires"</dt><dd data-testid="license-expires">{until(&l)}</dd>
            <dt>"Issued"</dt><dd>{format(&l.created_at)}</dd>
        </dl>
        <p class="error" role="alert">{error}</p>
        {manage}
        <h2>"Activations"</h2>
        <table class="list" data-testid="activations">
            <thead><tr><th>"Fingerprint"</th><th>"Device"</th><th>"Activated"</th><th>"Last verified"</th><th>"Status"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
