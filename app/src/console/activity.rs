//! The activity tab: the app's audit log, newest first, through filters kept in the URL (so a
//! filtered view is a link and the page works without JavaScript), each event opening to
//! its details, and whether the log's hash chain still verifies.

use std::sync::Arc;

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Form, A};
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::audit::{AuditEventView, AuditPageView, Party, Verification};

use super::app::{slug_param, unavailable};
use crate::api::{self, ActivityQuery};

/// Event types offered as the type filter's suggestions; any other type or `prefix.*` can be
/// typed.
const COMMON_TYPES: &[&str] = &[
    "end_user.*",
    "end_user.signed_up",
    "end_user.signed_in",
    "end_user.signin_failed",
    "end_user.signed_out",
    "end_user.token_refreshed",
    "end_user.refresh_reuse_detected",
    "end_user.updated",
    "end_user.role_changed",
    "end_user.suspended",
    "end_user.reactivated",
    "end_user.sessions_revoked",
    "end_user.deleted",
    "session.revoked",
    "role.*",
    "permission.created",
    "api_key.*",
    "app_credential.*",
    "app.*",
    "app.config_changed",
    "member.added",
    "signing_key.created",
    "audit.retention_applied",
];

/// The filter inputs' names, as in the URL.
const FILTERS: [&str; 7] = ["type", "outcome", "actor", "subject", "ip", "from", "to"];

fn activity_href(slug: &str, query: &ActivityQuery) -> String {
    format!("/console/apps/{slug}/activity{}", query.to_query_string())
}

/// A GET form sends every input, blank or not, and the router's `Form` adds its nameless
/// button as `=`: drop those, so the address holds only the filters in use.
fn only_filters_in_use() -> Arc<dyn Fn(&leptos::web_sys::FormData)> {
    Arc::new(|data: &leptos::web_sys::FormData| {
        data.delete("");
        for name in FILTERS {
            if data.get(name).as_string().is_some_and(|v| v.trim().is_empty()) {
                data.delete(name);
            }
        }
    })
}

#[component]
pub fn ActivityPage() -> impl IntoView {
    let slug = slug_param();
    let params = use_query_map();
    let query = Memo::new(move |_| {
        let map = params.read();
        ActivityQuery::from_params(|name| map.get(name))
    });
    // The form shows the filters only: paging through the results leaves it alone.
    let filters = Memo::new(move |_| query.get().newest());
    let refreshes = RwSignal::new(0usize);
    let events = Resource::new(
        move || (slug(), query.get(), refreshes.get()),
        |(slug, query, _)| api::audit_events(slug, query),
    );
    let verification = Resource::new(move || (slug(), refreshes.get()), |(slug, _)| api::verify_audit(slug));
    view! {
        <Title text=move || format!("Activity · {} · Rampart", slug())/>
        <div class="toolbar">
            <h2 class="first">"Activity"</h2>
            <Refresh slug query refreshes/>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Verifying the chain…"</p> }>
            {move || Suspend::new(async move {
                match verification.await {
                    Ok(v) => Either::Left(view! { <ChainStatus verification=v/> }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
        {move || view! { <FilterForm slug=slug() query=filters.get()/> }}
        <Transition fallback=|| view! { <p class="muted">"Loading events…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(page) => Either::Left(view! { <EventList slug=slug() query=query.get_untracked() page/> }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

/// Loads the newest events through the same filters. Without JavaScript it is a GET form to
/// the page's address; with it, the page fetches again in place.
#[component]
fn Refresh(
    slug: impl Fn() -> String + Copy + Send + Sync + 'static,
    query: Memo<ActivityQuery>,
    refreshes: RwSignal<usize>,
) -> impl IntoView {
    let navigate = use_navigate();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let current = query.get_untracked();
        if !current.cursor.is_empty() {
            navigate(&activity_href(&slug(), &current.newest()), Default::default());
        }
        refreshes.update(|n| *n += 1);
    };
    let hidden = move || {
        let newest = query.get().newest();
        let inputs = newest
            .params()
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| view! { <input type="hidden" name=name value=value.to_owned()/> })
            .collect_view();
        inputs
    };
    view! {
        <form method="get" action=move || format!("/console/apps/{}/activity", slug()) class="refresh" on:submit=on_submit>
            {hidden}
            <button type="submit" title="Load the newest events and verify the chain again">"Refresh"</button>
        </form>
    }
}

#[component]
fn FilterForm(slug: String, query: ActivityQuery) -> impl IntoView {
    let clear = query.filtered().then(|| {
        let href = activity_href(&slug, &ActivityQuery { limit: query.limit.clone(), ..Default::default() });
        view! { <A href=href attr:aria-label="Clear filters">"Clear"</A> }
    });
    let outcomes = [("", "Any"), ("success", "Success"), ("failure", "Failure")]
        .map(|(value, label)| {
            let selected = query.outcome == value;
            view! { <option value=value selected=selected>{label}</option> }
        })
        .into_iter()
        .collect_view();
    view! {
        <Form method="GET" action=format!("/console/apps/{slug}/activity") on_form_data=only_filters_in_use()
            attr:class="card filters" attr:data-testid="activity-filters" attr:aria-label="Filter events">
            <label>
                "Type"
                <input type="text" name="type" list="activity-types" value=query.kind.clone()
                    placeholder="end_user.* or a type" autocomplete="off" spellcheck="false"/>
            </label>
            <datalist id="activity-types">
                {COMMON_TYPES.iter().map(|t| view! { <option value=*t></option> }).collect_view()}
            </datalist>
            <label>
                "Outcome"
                <select name="outcome">
                    {outcomes}
                </select>
            </label>
            <label>
                "Actor ID"
                <input type="text" name="actor" value=query.actor.clone() placeholder="Who did it" autocomplete="off" spellcheck="false"/>
            </label>
            <label>
                "Subject ID"
                <input type="text" name="subject" value=query.subject.clone() placeholder="What it was done to" autocomplete="off" spellcheck="false"/>
            </label>
            <label>
                "IP address"
                <input type="text" name="ip" value=query.ip.clone() placeholder="203.0.113.7" autocomplete="off" spellcheck="false"/>
            </label>
            <label>
                "From (UTC)"
                <input type="datetime-local" name="from" step="1" value=datetime_local(&query.from)/>
            </label>
            <label>
                "Until (UTC)"
                <input type="datetime-local" name="to" step="1" value=datetime_local(&query.to)/>
            </label>
            {(!query.limit.is_empty()).then(|| view! { <input type="hidden" name="limit" value=query.limit.clone()/> })}
            <div class="filter-actions">
                <button type="submit" class="primary">"Apply filters"</button>
                {clear}
            </div>
        </Form>
    }
}

/// What a `datetime-local` input can show of a time in the URL: its own format as it is, an
/// RFC 3339 time in UTC without its zone; other values, which the input cannot hold, blank.
fn datetime_local(value: &str) -> String {
    let plain = value.strip_suffix('Z').or_else(|| value.strip_suffix("+00:00")).unwrap_or(value);
    let well_formed = plain.len() >= 16
        && plain.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'.',
            _ => b.is_ascii_digit(),
        });
    if well_formed {
        plain.to_owned()
    } else {
        String::new()
    }
}

/// The chain's state: intact or where it breaks, how much was checked, and when.
#[component]
fn ChainStatus(verification: Verification) -> impl IntoView {
    let Verification { valid, checked, first_broken, head, checkpoint, pending, checked_at } = verification;
    let events = |n: i64| if n == 1 { "1 event".to_owned() } else { format!("{n} events") };
    let from = match &checkpoint {
        Some(c) => format!(
            " since the retention checkpoint at position {} ({} removed on {})",
            c.position,
            events(c.removed),
            shared::time_format::format(&c.at)
        ),
        None => " from the first".to_owned(),
    };
    let head = head.map(|h| format!(" The head is at position {}.", h.position));
    let pending = (pending > 0).then(|| format!(" {} not linked yet.", events(pending)));
    let broken = first_broken.map(|b| {
        let why = match b.reason.as_str() {
            "missing" => "no event is at this position",
            "link" => "the event does not follow the one before it",
            "content" => "the event's content is not what was hashed",
            "head" => "the chain does not end at its recorded head, or the head is forged",
            "checkpoint" => "the retention checkpoint is forged",
            _ => "it does not verify",
        };
        view! {
            <p data-testid="chain-broken">
                "First broken link: position "<strong>{b.position}</strong>", "<code>{b.reason.clone()}</code>" ("{why}")"
                {b.id.map(|id| view! { ", event "<code>{id.to_string()}</code> })}"."
            </p>
        }
    });
    let checked_at = shared::time_format::format(&checked_at);
    view! {
        <section class=if valid { "chain ok" } else { "chain broken" } data-testid="chain" aria-label="Chain verification">
            <p class="chain-title">
                <span class=if valid { "badge active" } else { "badge revoked" }>{if valid { "valid" } else { "broken" }}</span>
                {if valid { " The audit log's hash chain verifies." } else { " The audit log's hash chain does not verify." }}
            </p>
            <p class="small">{events(checked)}" checked"{from}"."{head}{pending}</p>
            {broken}
            <p class="muted small">"Checked at "<time datetime=checked_at.clone() data-testid="chain-checked-at">{checked_at.clone()}</time></p>
        </section>
    }
}

#[component]
fn EventList(slug: String, query: ActivityQuery, page: AuditPageView) -> impl IntoView {
    let AuditPageView { events, next_cursor } = page;
    let older = next_cursor.map(|cursor| {
        let href = activity_href(&slug, &ActivityQuery { cursor, ..query.clone() });
        view! { <A href=href>"Older events"</A> }
    });
    let newest =
        (!query.cursor.is_empty()).then(|| view! { <A href=activity_href(&slug, &query.newest())>"Newest events"</A> });
    let pager = view! { <nav class="pager" aria-label="Pages">{newest}{older}</nav> };
    if events.is_empty() {
        let text = if !query.cursor.is_empty() {
            "No older events."
        } else if query.filtered() {
            "No events match these filters."
        } else {
            "No events yet. Sign-ups, sign-ins and every change to the app show up here as they happen."
        };
        return Either::Left(view! { <p class="empty" data-testid="no-events">{text}</p>{pager} });
    }
    let slug = StoredValue::new(slug);
    Either::Right(view! {
        <div class="events" data-testid="events">
            <div class="event-row event-head" aria-hidden="true">
                <span>"Time (UTC)"</span><span>"Type"</span><span>"Outcome"</span><span>"Actor"</span>
                <span>"Subject"</span><span>"IP"</span><span>"Request"</span>
            </div>
            {events.into_iter().map(|e| view! { <EventRow slug=slug.get_value() event=e/> }).collect_view()}
        </div>
        {pager}
    })
}

/// The end of an id: enough to tell parties apart at a glance. (Not the start: the ids of
/// requests and events begin with their time, alike within a millisecond.)
fn short(id: &str) -> String {
    match id.char_indices().rev().nth(7) {
        Some((start, _)) if start > 0 => format!("…{}", &id[start..]),
        _ => id.to_owned(),
    }
}

/// A party as the list shows it: its kind and the first block of its id.
fn party(p: &Party) -> impl IntoView {
    let id = p.id.map(|id| id.to_string());
    let shown = id.as_deref().map(short);
    view! {
        <span class="party" title=id>
            {p.kind.clone()}
            {shown.map(|id| view! { " "<code>{id}</code> })}
        </span>
    }
}

#[component]
fn EventRow(slug: String, event: AuditEventView) -> impl IntoView {
    let e = event;
    let time = e.time.format("%Y-%m-%d %H:%M:%S%.3f").to_string();
    let time_attr = e.time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let outcome = e.outcome.clone();
    let badge = if outcome == "success" { "badge active" } else { "badge revoked" };
    let subject = match &e.subject {
        Some(s) => Either::Left(party(s)),
        None => Either::Right(view! { <span class="muted">"—"</span> }),
    };
    let ip = e.ip.clone().unwrap_or_default();
    let request = e.request_id.clone().unwrap_or_default();
    let details = serde_json::to_string_pretty(&e.details).unwrap_or_default();
    let by_party = |label: &'static str, p: &Party, field: fn(String) -> ActivityQuery| {
        p.id.map(|id| {
            let href = activity_href(&slug, &field(id.to_string()));
            view! { <A href=href>{label}</A> }
        })
    };
    let actor_link = by_party("Events by this actor", &e.actor, |actor| ActivityQuery { actor, ..Default::default() });
    let subject_link = e.subject.as_ref().and_then(|s| {
        by_party("Events about this subject", s, |subject| ActivityQuery { subject, ..Default::default() })
    });
    let full_party = |p: &Party| match p.id {
        Some(id) => EitherOf3::A(view! { {p.kind.clone()}" "<code>{id.to_string()}</code> }),
        None if p.kind == "system" => EitherOf3::B(view! { "system (Rampart itself)" }),
        None => EitherOf3::C(view! { {p.kind.clone()}" (not identified)" }),
    };
    let optional = |v: Option<String>| match v {
        Some(v) => Either::Left(view! { <code>{v}</code> }),
        None => Either::Right(view! { <span class="muted">"none"</span> }),
    };
    view! {
        <details class="event" data-testid="event" data-type=e.kind.clone()>
            <summary class="event-row">
                <time datetime=time_attr.clone()>{time}</time>
                <code class="event-type" title=e.kind.clone()>{e.kind.clone()}</code>
                <span><span class=badge>{outcome.clone()}</span></span>
                {party(&e.actor)}
                {subject}
                <code class="ip" title=ip.clone()>{ip.clone()}</code>
                <code class="request" title=request.clone()>{short(&request)}</code>
            </summary>
            <div class="event-detail">
                <dl class="facts">
                    <dt>"Event ID"</dt><dd><code>{e.id.to_string()}</code></dd>
                    <dt>"Time"</dt><dd><code>{time_attr}</code></dd>
                    <dt>"Type"</dt><dd><code>{e.kind.clone()}</code></dd>
                    <dt>"Outcome"</dt><dd>{outcome}</dd>
                    <dt>"Actor"</dt><dd>{full_party(&e.actor)}</dd>
                    <dt>"Subject"</dt><dd>{match &e.subject {
                        Some(s) => Either::Left(full_party(s)),
                        None => Either::Right(view! { <span class="muted">"none"</span> }),
                    }}</dd>
                    <dt>"Session"</dt><dd>{optional(e.session_id.map(|s| s.to_string()))}</dd>
                    <dt>"IP address"</dt><dd>{optional(e.ip.clone())}</dd>
                    <dt>"User agent"</dt><dd>{match e.user_agent.clone() {
                        Some(agent) => Either::Left(view! { <span class="agent">{agent}</span> }),
                        None => Either::Right(view! { <span class="muted">"none"</span> }),
                    }}</dd>
                    <dt>"Request ID"</dt><dd>{optional(e.request_id.clone())}</dd>
                    <dt>"Chain position"</dt><dd>{match e.position {
                        Some(p) => Either::Left(view! { <code>{p}</code> }),
                        None => Either::Right(view! { <span class="muted">"not linked yet"</span> }),
                    }}</dd>
                </dl>
                <div class="event-json">
                    <span class="picker-title">"Details"</span>
                    <pre data-testid="event-details">{details}</pre>
                    <p class="small event-links">{actor_link}" "{subject_link}</p>
                </div>
            </div>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_local_shows_what_the_input_can_hold() {
        assert_eq!(datetime_local("2026-01-31T12:00"), "2026-01-31T12:00");
        assert_eq!(datetime_local("2026-01-31T12:00:05Z"), "2026-01-31T12:00:05");
        assert_eq!(datetime_local("2026-01-31T12:00:05.250+00:00"), "2026-01-31T12:00:05.250");
        assert_eq!(datetime_local("2026-01-31T12:00:05+02:00"), "");
        assert_eq!(datetime_local("yesterday"), "");
        assert_eq!(datetime_local(""), "");
    }

    #[test]
    fn short_ids_are_their_end() {
        assert_eq!(short("0199a1c2-0000-7000-8000-000000000001"), "…00000001");
        assert_eq!(short("12345678"), "12345678");
        assert_eq!(short("req"), "req");
        assert_eq!(short(""), "");
    }
}
