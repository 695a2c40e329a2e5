//! The Signing keys tab: the app's keys (the active one, the previous ones still verifying,
//! retired and revoked ones), rotating now (optionally to another algorithm), revoking a
//! replaced key in an emergency, and the rotation schedule.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

use super::app::{permissions_resource, slug_param, successes, unavailable, Perms};
use super::error_text;
use crate::api::{self, KeyInfo, KeysView, RevokeSigningKey, RotateSigningKey, SaveKeySchedule};

#[derive(Clone, Copy)]
struct Actions {
    rotate: ServerAction<RotateSigningKey>,
    revoke: ServerAction<RevokeSigningKey>,
    schedule: ServerAction<SaveKeySchedule>,
}

#[component]
pub fn KeysPage() -> impl IntoView {
    let slug = slug_param();
    let actions = Actions {
        rotate: ServerAction::<RotateSigningKey>::new(),
        revoke: ServerAction::<RevokeSigningKey>::new(),
        schedule: ServerAction::<SaveKeySchedule>::new(),
    };
    let changes = (successes(actions.rotate), successes(actions.revoke), successes(actions.schedule));
    let keys = Resource::new(
        move || (slug(), changes.0.get(), changes.1.get(), changes.2.get()),
        |(slug, ..)| api::list_signing_keys(slug),
    );
    let permissions = permissions_resource();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading signing keys…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match keys.await {
                    Ok(data) => Either::Left(view! {
                        <Title text=format!("Signing keys · {} · Rampart", slug())/>
                        <Board slug=slug() data perms actions/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Transition>
    }
}

#[component]
fn Board(slug: String, data: KeysView, perms: Perms, actions: Actions) -> impl IntoView {
    let KeysView { keys, rotation_days, grace_hours, jwks_url } = data;
    let can_rotate = perms.has("key.rotate");
    let can_schedule = perms.has("config.update");
    let rotate = actions.rotate;
    let schedule = actions.schedule;
    let rotate_error = error_text(rotate.value());
    let revoke_error = error_text(actions.revoke.value());
    let schedule_error = error_text(schedule.value());
    let rotated = move || match rotate.value().get() {
        Some(Ok(kid)) => Some(view! {
            <p class="notice" role="status" data-testid="rotated">"Key "<code>{kid}</code>" signs from now on."</p>
        }),
        _ => None,
    };
    let days_days = grace_hours / 24;
    let (rotate_slug, schedule_slug) = (slug.clone(), slug.clone());
    view! {
        <h2 class="first">"Signing keys"</h2>
        <p class="muted small">
            "Tokens are signed with the active key and verify against the app's JWKS at "
            <a href=jwks_url.clone()><code>{jwks_url.clone()}</code></a>
            ". After a rotation the previous key stays published and keeps verifying for "
            {days_days}" days and "{grace_hours % 24}" hours (the longest token lifetime plus the JWKS cache time), then retires."
        </p>
        {rotated}
        <p class="error" role="alert">{revoke_error}</p>
        <KeyTable slug=slug.clone() keys can_rotate revoke=actions.revoke/>
        {can_rotate.then(|| view! {
            <div class="card" data-testid="rotate-key">
                <h2>"Rotate now"</h2>
                <ActionForm action=rotate attr:class="stack">
                    <input type="hidden" name="slug" value=rotate_slug/>
                    <label>
                        "Algorithm of the new key"
                        <select name="alg">
                            <option value="">"Same as the active key"</option>
                            <option value="RS256">"RS256"</option>
                            <option value="ES256">"ES256"</option>
                            <option value="EdDSA">"EdDSA"</option>
                        </select>
                    </label>
                    <p class="error" role="alert">{rotate_error}</p>
                    <button type="submit" class="primary" disabled=move || rotate.pending().get()>"Rotate signing key"</button>
                </ActionForm>
            </div>
        })}
        {can_schedule.then(|| view! {
            <div class="card" data-testid="key-schedule">
                <h2>"Scheduled rotation"</h2>
                <ActionForm action=schedule attr:class="stack">
                    <input type="hidden" name="slug" value=schedule_slug/>
                    <label>
                        "Rotate every (days)"
                        <input type="number" name="days" min="0" max="3650" step="1" value=rotation_days.to_string()/>
                        <span class="hint">"0 turns it off; otherwise at least 30, so that at most two keys are published at a time."</span>
                    </label>
                    <p class="error" role="alert">{schedule_error}</p>
                    <button type="submit" disabled=move || schedule.pending().get()>"Save schedule"</button>
                </ActionForm>
            </div>
        })}
    }
}

#[component]
fn KeyTable(
    slug: String,
    keys: Vec<KeyInfo>,
    can_rotate: bool,
    revoke: ServerAction<RevokeSigningKey>,
) -> impl IntoView {
    let slug = StoredValue::new(slug);
    let rows = keys
        .into_iter()
        .map(|k| {
            let when = match (&k.revoked_at, &k.retires_at, k.status.as_str()) {
                (Some(t), _, _) => format!("revoked {t}"),
                (None, Some(t), "previous") => format!("verifies until {t}"),
                (None, Some(t), _) => format!("retired {t}"),
                (None, None, _) => "signs new tokens".into(),
            };
            let revoke_form = (can_rotate && k.status == "previous").then(|| {
                let kid = k.kid.clone();
                view! {
                    <details class="disclosure danger">
                        <summary>"Revoke"</summary>
                        <ActionForm action=revoke attr:class="stack">
                            <input type="hidden" name="slug" value=slug.get_value()/>
                            <input type="hidden" name="kid" value=kid/>
                            <p class="small">"Every token this key signed is refused at once, on every node. Use it when the key may be compromised."</p>
                            <button type="submit" class="danger" disabled=move || revoke.pending().get()>"Revoke key"</button>
                        </ActionForm>
                    </details>
                }
            });
            view! {
                <tr data-testid=format!("key-{}", k.kid)>
                    <td><code>{k.kid.clone()}</code></td>
                    <td>{k.alg.clone()}</td>
                    <td><span class=format!("badge {}", k.status)>{k.status.clone()}</span></td>
                    <td class="muted">{k.created_at.clone()}</td>
                    <td class="muted small">{when}</td>
                    <td class="role-actions">{revoke_form}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list" data-testid="signing-keys">
            <thead><tr><th>"Key id"</th><th>"Algorithm"</th><th>"Status"</th><th>"Created"</th><th></th><th></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
