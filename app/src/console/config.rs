//! The auth config tab: every setting of the app's sign-up, sign-in, passwords, tokens, mail
//! and emailed links in one form, saved whole or not at all. (Redirects, origins, browser
//! sessions, CSRF and branding are the Hosted pages tab's.)

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::app::{permissions_resource, slug_param, unavailable, Perms};
use super::error_text;
use crate::api::{self, ConfigView, SaveConfig};

#[component]
pub fn ConfigPage() -> impl IntoView {
    let slug = slug_param();
    let save = ServerAction::<SaveConfig>::new();
    // Not refetched after saving: the form already shows what was saved.
    let config = Resource::new(slug, api::auth_config);
    let permissions = permissions_resource();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the auth config…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match config.await {
                    Ok(config) => Either::Left(view! {
                        <Title text=format!("Auth config · {} · Rampart", slug())/>
                        <ConfigEditor slug=slug() config editable=perms.has("config.update") save/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Suspense>
    }
}

pub(super) fn toggle(field: &'static str, label: &'static str, hint: &'static str, on: bool) -> impl IntoView {
    view! {
        <label class="toggle">
            <input type="checkbox" name=format!("config[{field}]") value="true" checked=on/>
            <span class="switch" aria-hidden="true"></span>
            <span class="toggle-text">
                <span class="toggle-label">{label}</span>
                <span class="hint">{hint}" "<code>{field}</code></span>
            </span>
        </label>
    }
}

fn number(
    field: &'static str,
    label: &'static str,
    hint: &'static str,
    value: i64,
    invalid: Signal<bool>,
) -> impl IntoView {
    view! {
        <label class="field" class:invalid=invalid>
            <span>{label}</span>
            <input type="number" step="1" name=format!("config[{field}]") value=value.to_string()
                aria-invalid=move || invalid.get().then_some("true")/>
            <span class="hint">{hint}" "<code>{field}</code></span>
        </label>
    }
}

/// A line of text; `placeholder` says what blank means.
fn text(
    field: &'static str,
    label: &'static str,
    hint: &'static str,
    value: String,
    placeholder: &'static str,
    invalid: Signal<bool>,
) -> impl IntoView {
    view! {
        <label class="field wide" class:invalid=invalid>
            <span>{label}</span>
            <input type="text" name=format!("config[{field}]") value=value placeholder=placeholder
                autocomplete="off" spellcheck="false" aria-invalid=move || invalid.get().then_some("true")/>
            <span class="hint">{hint}" "<code>{field}</code></span>
        </label>
    }
}

#[component]
fn ConfigEditor(slug: String, config: ConfigView, editable: bool, save: ServerAction<SaveConfig>) -> impl IntoView {
    let error = error_text(save.value());
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    // The engine's message starts with the name of the field it refuses.
    let invalid = move |field: &'static str| {
        Signal::derive(move || save.value().with(|v| matches!(v, Some(Err(e)) if e.to_string().starts_with(field))))
    };
    let ConfigView { config: c, roles } = config;
    let default_role = c.signup_default_role.clone();
    let hosted_tab = format!("/console/apps/{slug}/hosted");
    view! {
        <ActionForm action=save attr:class="settings" attr:data-testid="config-form">
            <input type="hidden" name="slug" value=slug/>
            {(!editable).then(|| view! {
                <p class="notice">"Read-only: changing the auth config needs the "<code>"config.update"</code>" permission."</p>
            })}
            <fieldset class="card group" disabled=!editable>
                <legend>"Sign-up and sign-in"</legend>
                {toggle("signup_enabled", "Sign-up open", "New end-users can create an account.", c.signup_enabled)}
                {toggle("signin_enabled", "Sign-in open", "End-users can sign in.", c.signin_enabled)}
                {toggle("signup_requires_pak", "Sign-up needs an API key",
                    "Only your backend signs users up, with a key holding rampart.signup.create.", c.signup_requires_pak)}
                <label class="field" class:invalid=invalid("signup_default_role")>
                    <span>"Role of new end-users"</span>
                    <select name="config[signup_default_role]">
                        {roles.into_iter().map(|role| {
                            let selected = role == default_role;
                            view! { <option value=role.clone() selected=selected>{role.clone()}</option> }
                        }).collect_view()}
                    </select>
                    <span class="hint">"Given to every new end-user. "<code>"signup_default_role"</code></span>
                </label>
            </fieldset>
            <fieldset class="card group" disabled=!editable>
                <legend>"Passwords"</legend>
                {number("password_min_length", "Minimum password length", "8 to 128 characters.",
                    i64::from(c.password_min_length), invalid("password_min_length"))}
                {toggle("password_require_uppercase", "Require an uppercase letter", "", c.password_require_uppercase)}
                {toggle("password_require_number", "Require a number", "", c.password_require_number)}
                {toggle("password_require_symbol", "Require a symbol", "", c.password_require_symbol)}
            </fieldset>
            <fieldset class="card group" disabled=!editable>
                <legend>"Tokens"</legend>
                {number("access_token_ttl_seconds", "Access token lifetime (seconds)", "60 to 86400.",
                    c.access_token_ttl_seconds, invalid("access_token_ttl_seconds"))}
                {number("refresh_token_ttl_seconds", "Refresh token lifetime (seconds)",
                    "300 to 31536000, and at least the access token's.",
                    c.refresh_token_ttl_seconds, invalid("refresh_token_ttl_seconds"))}
                {number("refresh_reuse_grace_seconds", "Refresh reuse grace (seconds)",
                    "0 (the default) to 300. At 0, a refresh token presented twice ends the session: a thief's replay and the user's refresh collide, and both lose it. Above 0, a repeat within the window gets the same answer (kind to flaky networks, and to a thief who replays within it).",
                    c.refresh_reuse_grace_seconds, invalid("refresh_reuse_grace_seconds"))}
                {number("signing_key_rotation_days", "Rotate signing keys every (days)",
                    "0 (never) or 30 to 3650. The Signing keys tab rotates at once, or revokes a key.",
                    c.signing_key_rotation_days, invalid("signing_key_rotation_days"))}
                {toggle("refresh_requires_app_credentials", "Refresh needs app credentials",
                    "Refresh and logout must carry an app_id and app_secret from the Credentials tab: only your backend keeps sessions going.",
                    c.refresh_requires_app_credentials)}
            </fieldset>
            <fieldset class="card group" disabled=!editable>
                <legend>"Permissions"</legend>
                {toggle("enforce_app_permissions", "Enforce app permissions",
                    "The app's API checks each end-user's role before answering.", c.enforce_app_permissions)}
            </fieldset>
            <fieldset class="card group" disabled=!editable data-testid="config-mail">
                <legend>"Mail and links"</legend>
                {text("mail_from_name", "Sender name", "Blank: the app's display name.",
                    c.mail_from_name.clone(), "The app's display name", invalid("mail_from_name"))}
                {text("mail_from_address", "Sender address", "Blank: the server's sender, RAMPART_MAIL_FROM.",
                    c.mail_from_address.clone(), "The server's sender", invalid("mail_from_address"))}
                {toggle("verify_email_on_signup", "Verify email on sign-up",
                    "Sign-up emails the new end-user a link that confirms their address.", c.verify_email_on_signup)}
                {toggle("magic_link_enabled", "Magic links",
                    "End-users can sign in with a link emailed to them.", c.magic_link_enabled)}
                {toggle("check_email_enabled", "Check email",
                    "A sign-in page may ask whether an email has an account, which tells anyone who asks: leave it off unless your sign-in asks for the email first.",
                    c.check_email_enabled)}
                <p class="hint">
                    "Where an emailed link may send the end-user afterwards: the allowed redirect URLs, on the "
                    <A href=hosted_tab>"Hosted pages"</A>" tab."
                </p>
                {number("verify_email_link_ttl_seconds", "Email confirmation link lifetime (seconds)", "300 to 604800.",
                    c.verify_email_link_ttl_seconds, invalid("verify_email_link_ttl_seconds"))}
                {number("reset_password_link_ttl_seconds", "Password reset link lifetime (seconds)", "300 to 86400.",
                    c.reset_password_link_ttl_seconds, invalid("reset_password_link_ttl_seconds"))}
                {number("magic_link_ttl_seconds", "Magic link lifetime (seconds)", "60 to 3600.",
                    c.magic_link_ttl_seconds, invalid("magic_link_ttl_seconds"))}
            </fieldset>
            <fieldset class="card group" disabled=!editable data-testid="config-otp">
                <legend>"One-time codes"</legend>
                {toggle("otp_enabled", "OTP sign-in",
                    "Your backend (with the app's credentials) can sign end-users in by a code sent by email or SMS; a first sign-in creates the user when sign-up is open.",
                    c.otp_enabled)}
                {number("otp_ttl_seconds", "Code lifetime (seconds)", "60 to 600. A code allows 5 tries, and a resend keeps the count.",
                    c.otp_ttl_seconds, invalid("otp_ttl_seconds"))}
            </fieldset>
            <fieldset class="card group" disabled=!editable data-testid="config-limits">
                <legend>"Lockout and rate limits"</legend>
                {number("lockout_threshold", "Lock an account after (failed sign-ins)",
                    "0 never locks. A locked account answers like a wrong password until the cooling period ends; a reset, magic link or code still lets its owner in, and a success clears the count.",
                    c.lockout_threshold, invalid("lockout_threshold"))}
                {number("lockout_seconds", "Cooling period (seconds)", "60 to 86400.",
                    c.lockout_seconds, invalid("lockout_seconds"))}
                {number("rate_limit_window_seconds", "Rate limit window (seconds)",
                    "60 to 86400: every limit below counts over this sliding window. Past one, requests get 429 with Retry-After.",
                    c.rate_limit_window_seconds, invalid("rate_limit_window_seconds"))}
                {number("rate_limit_signin_per_ip", "Sign-ins per IP", "",
                    c.rate_limit_signin_per_ip, invalid("rate_limit_signin_per_ip"))}
                {number("rate_limit_signin_per_identifier", "Sign-ins per account",
                    "Username, email and their spellings count as one.",
                    c.rate_limit_signin_per_identifier, invalid("rate_limit_signin_per_identifier"))}
                {number("rate_limit_otp_per_destination", "Codes sent per email or phone", "",
                    c.rate_limit_otp_per_destination, invalid("rate_limit_otp_per_destination"))}
                {number("rate_limit_otp_per_ip", "Codes sent per IP", "",
                    c.rate_limit_otp_per_ip, invalid("rate_limit_otp_per_ip"))}
                {number("rate_limit_links_per_destination", "Links mailed per address", "Reset, magic link and verification mail.",
                    c.rate_limit_links_per_destination, invalid("rate_limit_links_per_destination"))}
                {number("rate_limit_links_per_ip", "Link and lookup requests per IP", "Each of forgot-password, magic-link, verification mail and check-email.",
                    c.rate_limit_links_per_ip, invalid("rate_limit_links_per_ip"))}
                {number("rate_limit_redeem_per_ip", "Codes and links redeemed per IP", "Code guesses, invites, resets, confirmations and sign-in links.",
                    c.rate_limit_redeem_per_ip, invalid("rate_limit_redeem_per_ip"))}
                {number("rate_limit_credential_failures_per_ip", "Failed credential checks per IP", "Wrong app secrets and API keys.",
                    c.rate_limit_credential_failures_per_ip, invalid("rate_limit_credential_failures_per_ip"))}
            </fieldset>
            <fieldset class="card group" disabled=!editable data-testid="config-orgs">
                <legend>"Organizations"</legend>
                {toggle("organizations_enabled", "Organizations",
                    "End-users create organizations, invite others into them with one of the app's roles, and switch the organization their tokens act in.",
                    c.organizations_enabled)}
                <label class="field" class:invalid=invalid("organization_creation")>
                    <span>"Who may create one"</span>
                    <select name="config[organization_creation]">
                        {shared::config::ORGANIZATION_CREATION.iter().map(|who| {
                            let selected = *who == c.organization_creation;
                            let label = match *who {
                                "verified_users" => "End-users with a verified email",
                                "any_user" => "Any end-user",
                                _ => "End-users whose app role is owner or admin",
                            };
                            view! { <option value=*who selected=selected>{label}</option> }
                        }).collect_view()}
                    </select>
                    <span class="hint">"The creator becomes the organization's owner. "<code>"organization_creation"</code></span>
                </label>
                {number("organization_invite_ttl_seconds", "Invite lifetime (seconds)", "3600 to 2592000.",
                    c.organization_invite_ttl_seconds, invalid("organization_invite_ttl_seconds"))}
            </fieldset>
            <fieldset class="card group" disabled=!editable>
                <legend>"Activity log"</legend>
                {number("audit_retention_days", "Keep events for (days)",
                    "0 (the default) keeps every event. Otherwise 1 to 3650: older events are cut from the start of the chain, which still verifies from the checkpoint left behind.",
                    c.audit_retention_days, invalid("audit_retention_days"))}
            </fieldset>
            {editable.then(|| view! {
                <div class="form-actions">
                    <button type="submit" class="primary" disabled=move || save.pending().get()>"Save changes"</button>
                    <span class="saved" role="status">{move || saved().then_some("Saved")}</span>
                    <p class="error" role="alert">{error}</p>
                </div>
            })}
        </ActionForm>
    }
}
