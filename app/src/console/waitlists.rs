//! The waitlists tab: the features end-users can join a waitlist for, with how many wait and
//! how many were let in; one feature's entries (first come, first listed), letting one in or
//! the next few, and the list as CSV.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use shared::time_format::format;
use shared::waitlists::{WaitlistEntryView, WaitlistPage, WaitlistSummary};

use super::app::{permissions_resource, reset_on_success, slug_param, successes, unavailable, Perms};
use super::error_text;
use crate::api::{self, AdmitWaitlist, ExportWaitlist, SetWaitlistFeature};

/// The tab's address, for a feature and a filter.
fn href(slug: &str, feature: Option<&str>, status: Option<&str>, cursor: Option<&str>) -> String {
    let mut query = ParamsMap::new();
    for (name, value) in [("feature", feature), ("status", status), ("cursor", cursor)] {
        if let Some(value) = value {
            query.insert(name, value.to_owned());
        }
    }
    format!("/console/apps/{slug}/waitlists{}", query.to_query_string())
}

/// A `data:` URL of the CSV, so the export downloads without another round trip.
fn csv_data_url(csv: &str) -> String {
    let mut url = String::from("data:text/csv;charset=utf-8,");
    for b in csv.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            url.push(b as char);
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url
}

#[component]
pub fn WaitlistsPage() -> impl IntoView {
    let slug = slug_param();
    let query = use_query_map();
    let feature = move || query.read().get("feature").filter(|f| !f.is_empty());
    let status = move || query.read().get("status").filter(|s| !s.is_empty());
    let cursor = move || query.read().get("cursor").filter(|c| !c.is_empty());
    let set_feature = ServerAction::<SetWaitlistFeature>::new();
    let admit = ServerAction::<AdmitWaitlist>::new();
    let changes = (successes(set_feature), successes(admit));
    let summaries =
        Resource::new(move || (slug(), changes.0.get(), changes.1.get()), |(slug, ..)| api::list_waitlists(slug));
    let entries = Resource::new(
        move || (slug(), feature(), status(), cursor(), changes.1.get()),
        |(slug, feature, status, cursor, _)| async move {
            match feature {
                Some(feature) => api::waitlist_entries(slug, feature, status, cursor).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let permissions = permissions_resource();
    let add_form = reset_on_success(set_feature);
    view! {
        <Title text=move || format!("Waitlists · {} · Rampart", slug())/>
        <h2 class="first">"Waitlists"</h2>
        <p class="muted small">
            "End-users join a feature's waitlist with "<code>"PUT /"{slug}"/v1/me/waitlists/{feature}"</code>
            " (in the organization their token acts in, if any). Letting someone in emails them."
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading waitlists…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match summaries.await {
                    Ok(list) => Either::Left(view! {
                        <Features slug=slug() list perms=perms.clone() selected=feature() set_feature add_form/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match entries.await {
                    Ok(Some(page)) => Some(Either::Left(view! {
                        <Entries slug=slug() page perms status=status() first_page=cursor().is_none() admit/>
                    })),
                    Ok(None) => None,
                    Err(e) => Some(Either::Right(unavailable(e))),
                }
            })}
        </Transition>
    }
}

#[component]
fn Features(
    slug: String,
    list: Vec<WaitlistSummary>,
    perms: Perms,
    selected: Option<String>,
    set_feature: ServerAction<SetWaitlistFeature>,
    add_form: NodeRef<leptos::html::Form>,
) -> impl IntoView {
    let can_configure = perms.has("config.update") && perms.has("config.read");
    let error = error_text(set_feature.value());
    let slug = StoredValue::new(slug);
    let rows = list
        .into_iter()
        .map(|s| {
            let open = href(&slug.get_value(), Some(&s.feature), None, None);
            let is_selected = selected.as_deref() == Some(s.feature.as_str());
            let name = s.feature.clone();
            let label = s.feature.clone();
            let remove = (can_configure && s.configured).then(move || {
                let label = format!("Stop taking sign-ups for {name}");
                view! {
                    <ActionForm action=set_feature>
                        <input type="hidden" name="slug" value=slug.get_value()/>
                        <input type="hidden" name="feature" value=name.clone()/>
                        <input type="hidden" name="add" value="false"/>
                        <button type="submit" class="small danger-link" aria-label=label>"Close"</button>
                    </ActionForm>
                }
            });
            view! {
                <tr data-testid="waitlist" data-feature=s.feature.clone() class:selected=is_selected>
                    <td><A href=open><code>{label}</code></A></td>
                    <td data-testid="waiting">{s.waiting}</td>
                    <td data-testid="admitted">{s.admitted}</td>
                    <td>
                        {if s.configured {
                            view! { <span class="badge active">"open"</span> }.into_any()
                        } else {
                            view! { <span class="badge revoked">"closed"</span> }.into_any()
                        }}
                    </td>
                    <td>{remove}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list" data-testid="waitlists">
            <thead><tr><th>"Feature"</th><th>"Waiting"</th><th>"Let in"</th><th>"Sign-ups"</th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        {can_configure.then(|| view! {
            <ActionForm action=set_feature node_ref=add_form attr:class="inline-form" attr:data-testid="add-waitlist">
                <input type="hidden" name="slug" value=slug.get_value()/>
                <input type="hidden" name="add" value="true"/>
                <label>"New waitlist"<input type="text" name="feature" placeholder="beta" autocomplete="off" required
                    pattern="[a-z0-9][a-z0-9._\\-]{0,63}" title="Lowercase letters, digits, '-', '_' or '.'"/></label>
                <button type="submit" class="primary" disabled=move || set_feature.pending().get()>"Open waitlist"</button>
            </ActionForm>
        })}
        <p class="error" role="alert">{error}</p>
    }
}

#[component]
fn Entries(
    slug: String,
    page: WaitlistPage,
    perms: Perms,
    status: Option<String>,
    first_page: bool,
    admit: ServerAction<AdmitWaitlist>,
) -> impl IntoView {
    let WaitlistPage { summary, entries, next_cursor } = page;
    let slug = StoredValue::new(slug);
    let feature = StoredValue::new(summary.feature.clone());
    let can_admit = perms.has("waitlist.update");
    let export = ServerAction::<ExportWaitlist>::new();
    let admit_error = error_text(admit.value());
    let export_error = error_text(export.value());
    let admitted_notice = move || match admit.value().get() {
        Some(Ok(n)) => Some(view! {
            <p class="notice ok" role="status" data-testid="admitted-notice">
                {match n {
                    0 => "No one was waiting there.".to_owned(),
                    1 => "Let 1 person in; they were emailed.".to_owned(),
                    n => format!("Let {n} people in; each was emailed."),
                }}
            </p>
        }),
        _ => None,
    };
    let download = {
        let name = format!("{}-{}-waitlist.csv", slug.get_value(), feature.get_value());
        move || match export.value().get() {
            Some(Ok(csv)) => Some(view! {
                <a class="button" href=csv_data_url(&csv) download=name.clone() data-testid="download-csv">
                    "Download "{name.clone()}
                </a>
            }),
            _ => None,
        }
    };
    let filter = |label: &'static str, value: Option<&'static str>| {
        let current = status.as_deref() == value;
        let to = href(&slug.get_value(), Some(&feature.get_value()), value, None);
        view! { <A href=to attr:aria-current=current.then_some("page")>{label}</A> }
    };
    let rows = entries
        .iter()
        .cloned()
        .map(|entry| view! { <EntryRow slug=slug.get_value() entry can_admit admit/> })
        .collect_view();
    let empty = entries.is_empty().then(|| view! { <p class="empty" data-testid="no-entries">"No one here yet."</p> });
    let pager = view! {
        <nav class="pager" aria-label="Pages">
            {(!first_page).then(|| {
                let to = href(&slug.get_value(), Some(&feature.get_value()), status.as_deref(), None);
                view! { <A href=to>"First page"</A> }
            })}
            {next_cursor.map(|c| {
                let to = href(&slug.get_value(), Some(&feature.get_value()), status.as_deref(), Some(&c));
                view! { <A href=to>"Next page"</A> }
            })}
        </nav>
    };
    view! {
        <section class="card" data-testid="waitlist-entries" data-feature=feature.get_value()>
            <div class="toolbar">
                <h2>"Waitlist "<code>{feature.get_value()}</code></h2>
                <nav class="filters" aria-label="Show">
                    {filter("All", None)}" · "{filter("Waiting", Some("waiting"))}" · "{filter("Let in", Some("admitted"))}
                </nav>
            </div>
            <p class="muted small">{format!("{} waiting, {} let in.", summary.waiting, summary.admitted)}</p>
            {can_admit.then(|| view! {
                <ActionForm action=admit attr:class="inline-form" attr:data-testid="admit-next">
                    <input type="hidden" name="slug" value=slug.get_value()/>
                    <input type="hidden" name="feature" value=feature.get_value()/>
                    <label>"Let in the next"<input type="number" name="count" min="1" max="500" value="10" required/></label>
                    <button type="submit" class="primary" disabled=move || admit.pending().get()>"Let them in"</button>
                </ActionForm>
            })}
            <p class="error" role="alert">{admit_error}</p>
            {admitted_notice}
            <ActionForm action=export attr:class="inline-form">
                <input type="hidden" name="slug" value=slug.get_value()/>
                <input type="hidden" name="feature" value=feature.get_value()/>
                <button type="submit" disabled=move || export.pending().get()>"Export CSV"</button>
                {download}
            </ActionForm>
            <p class="error" role="alert">{export_error}</p>
            {empty}
            {(!entries.is_empty()).then(|| view! {
                <table class="list" data-testid="entries">
                    <thead><tr><th>"Who"</th><th>"Organization"</th><th>"Status"</th><th>"Joined"</th><th></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            })}
            {pager}
        </section>
    }
}

#[component]
fn EntryRow(
    slug: String,
    entry: WaitlistEntryView,
    can_admit: bool,
    admit: ServerAction<AdmitWaitlist>,
) -> impl IntoView {
    let WaitlistEntryView {
        id,
        feature,
        username,
        display_name,
        email,
        organization_name,
        status,
        joined_at,
        admitted_at,
        ..
    } = entry;
    let button = (can_admit && status == "waiting").then(|| {
        let label = format!("Let {username} in");
        view! {
            <ActionForm action=admit>
                <input type="hidden" name="slug" value=slug.clone()/>
                <input type="hidden" name="feature" value=feature.clone()/>
                <input type="hidden" name="id" value=id.to_string()/>
                <button type="submit" class="small" disabled=move || admit.pending().get() aria-label=label>"Let in"</button>
            </ActionForm>
        }
    });
    let when = admitted_at.map(|t| format!("let in {}", format(&t)));
    view! {
        <tr data-testid="entry" data-username=username.clone() data-status=status.clone()>
            <td>
                <strong>{display_name}</strong>
                <div class="muted small">{username.clone()}{email.map(|e| format!(" · {e}"))}</div>
            </td>
            <td>{organization_name.unwrap_or_else(|| "—".into())}</td>
            <td>
                <span class=format!("badge {status}")>{status.clone()}</span>
                {when.map(|w| view! { <div class="muted small nowrap">{w}</div> })}
            </td>
            <td class="muted">{format(&joined_at)}</td>
            <td>{button}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_data_urls_escape_everything_but_the_unreserved() {
        assert_eq!(super::csv_data_url("a,b\n\"c\""), "data:text/csv;charset=utf-8,a%2Cb%0A%22c%22");
    }
}
