//! The account page: a signed-in end-user's profile, password, sessions and contacts. Each
//! change is its own small form, posted and answered with a redirect back here.

use leptos::prelude::*;

use super::{document, error_region, field, form, hidden, new_password_fields, notice, submit, Field, FormError, Page};

/// One of the user's live sessions.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub device: String,
    pub ip: String,
    pub last_used: String,
    pub current: bool,
}

/// One of the user's emails or phones.
#[derive(Debug, Clone)]
pub struct ContactRow {
    pub id: String,
    /// `email` or `phone`.
    pub kind: &'static str,
    pub value: String,
    pub primary: bool,
    pub verified: bool,
}

/// What the account page shows.
#[derive(Debug, Clone, Default)]
pub struct AccountView {
    pub display_name: String,
    pub username: String,
    pub sessions: Vec<SessionRow>,
    pub contacts: Vec<ContactRow>,
    pub notice: Option<String>,
    pub error: Option<FormError>,
    /// The contact a code was just sent to, whose code form is shown.
    pub verifying: Option<String>,
    /// What the user typed into a form that failed, kept: the display name, and the
    /// contact being added (kind, value).
    pub typed_name: Option<String>,
    pub typed_contact: (String, String),
    /// The user's identities at the app's providers.
    pub identities: Vec<IdentityRow>,
    /// The enabled providers the user has no identity at yet.
    pub linkable: Vec<super::ProviderButton>,
}

/// One of the user's identities at a provider.
#[derive(Debug, Clone)]
pub struct IdentityRow {
    pub id: String,
    pub provider: String,
    pub email: String,
}

fn identities(page: &Page, v: &AccountView) -> impl IntoView {
    let rows = v
        .identities
        .iter()
        .map(|i| {
            let label = page.t_with("identity-unlink-label", &[("provider", i.provider.clone().into())]);
            view! {
                <tr>
                    <td>{i.provider.clone()}</td>
                    <td>{i.email.clone()}</td>
                    <td>
                        {form(page, page.action("account/identities/unlink"), &format!("identity-form-{}", i.id), view! {
                            {hidden("identity_id", i.id.clone())}
                            <button type="submit" class="secondary" aria-label=label>{page.t("identity-unlink")}</button>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let table = (!v.identities.is_empty()).then(|| {
        view! {
            <table aria-labelledby="identities">
                <thead>
                    <tr>
                        <th scope="col">{page.t("identity-provider")}</th>
                        <th scope="col">{page.t("identity-email")}</th>
                        <th scope="col"><span class="sr-only">{page.t("identity-unlink")}</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let none = v.identities.is_empty().then(|| view! { <p class="muted">{page.t("identities-none")}</p> });
    let links = v
        .linkable
        .iter()
        .map(|p| {
            let text = page.t_with("identity-link", &[("provider", p.label.clone().into())]);
            view! {
                {form(page, page.action("account/identities/link"), &format!("link-form-{}", p.name), view! {
                    {hidden("provider", p.name.clone())}
                    <button type="submit" class="secondary">{text}</button>
                })}
            }
        })
        .collect_view();
    let shown = !v.identities.is_empty() || !v.linkable.is_empty();
    shown.then(|| view! { <h2 id="identities">{page.t("identities-title")}</h2> {none} {table} {links} })
}

fn sessions(page: &Page, rows: &[SessionRow]) -> impl IntoView {
    let unknown = page.t("session-unknown");
    let rows = rows
        .iter()
        .map(|s| {
            let device = if s.device.is_empty() { unknown.clone() } else { s.device.clone() };
            let ip = if s.ip.is_empty() { unknown.clone() } else { s.ip.clone() };
            let label = page.t_with("session-sign-out-label", &[("device", device.clone().into())]);
            let current = s.current.then(|| view! { " " <span class="tag">{page.t("session-current")}</span> });
            view! {
                <tr>
                    <td>{device}{current}</td>
                    <td>{ip}</td>
                    <td>{s.last_used.clone()}</td>
                    <td>
                        {form(page, page.action("account/sessions/revoke"), &format!("session-form-{}", s.id), view! {
                            {hidden("session_id", s.id.clone())}
                            <button type="submit" class="secondary" aria-label=label>{page.t("session-sign-out")}</button>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h2 id="sessions">{page.t("sessions-title")}</h2>
        <table aria-labelledby="sessions">
            <thead>
                <tr>
                    <th scope="col">{page.t("session-device")}</th>
                    <th scope="col">{page.t("session-ip")}</th>
                    <th scope="col">{page.t("session-last-used")}</th>
                    <th scope="col"><span class="sr-only">{page.t("session-sign-out")}</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn contact_row(page: &Page, c: &ContactRow, verifying: Option<&str>) -> impl IntoView {
    let kind = page.t(if c.kind == "phone" { "contact-kind-phone" } else { "contact-kind-email" });
    let state = page.t(if c.verified { "contact-verified" } else { "contact-unverified" });
    let primary = c.primary.then(|| view! { " " <span class="tag">{page.t("contact-primary")}</span> });
    let label = page.t_with("contact-actions-label", &[("contact", c.value.clone().into())]);
    let password_id = format!("contact-password-{}", c.id);
    let change = (!c.primary).then(|| {
        let make_primary = (c.verified && c.kind == "email").then(|| {
            view! { <button type="submit" class="secondary" name="action" value="primary">{page.t("contact-make-primary")}</button> }
        });
        view! {
            {form(page, page.action("account/contacts/change"), &format!("contact-change-form-{}", c.id), view! {
                {hidden("contact_id", c.id.clone())}
                <label for=password_id.clone() class="sr-only">{page.t("field-current-password")}</label>
                <input
                    id=password_id.clone()
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    placeholder=page.t("field-current-password")
                />
                {make_primary}
                <button type="submit" class="secondary" name="action" value="remove">{page.t("contact-remove")}</button>
            })}
        }
    });
    let verify = (!c.verified).then(|| {
        if verifying == Some(c.id.as_str()) {
            let code_id = format!("contact-code-{}", c.id);
            view! {
                {form(page, page.action("account/contacts/verify"), &format!("contact-verify-form-{}", c.id), view! {
                    {hidden("contact_id", c.id.clone())}
                    <label for=code_id.clone() class="sr-only">{page.t("field-code")}</label>
                    <input
                        id=code_id.clone()
                        name="code"
                        type="text"
                        inputmode="numeric"
                        autocomplete="one-time-code"
                        required=true
                        placeholder=page.t("field-code")
                    />
                    <button type="submit" class="secondary">{page.t("contact-code-submit")}</button>
                })}
            }
            .into_any()
        } else {
            view! {
                {form(page, page.action("account/contacts/send-code"), &format!("contact-code-form-{}", c.id), view! {
                    {hidden("contact_id", c.id.clone())}
                    <button type="submit" class="secondary">{page.t("contact-send-code")}</button>
                })}
            }
            .into_any()
        }
    });
    view! {
        <tr>
            <td>{c.value.clone()}{primary}<br/><span class="muted">{kind} " · " {state}</span></td>
            <td><div class="row-actions" role="group" aria-label=label>{change}{verify}</div></td>
        </tr>
    }
}

fn contacts(page: &Page, v: &AccountView) -> impl IntoView {
    let rows = v.contacts.iter().map(|c| contact_row(page, c, v.verifying.as_deref())).collect_view();
    let (kind, value) = v.typed_contact.clone();
    let e = v.error.as_ref();
    let phone = kind == "phone";
    view! {
        <h2 id="contacts">{page.t("contacts-title")}</h2>
        <p class="muted">{page.t("contacts-note")}</p>
        <table aria-labelledby="contacts"><tbody>{rows}</tbody></table>
        <h2 id="add-contact">{page.t("contact-add-title")}</h2>
        {form(page, page.action("account/contacts/add"), "contact-add-form", view! {
            <div class="field">
                <label for="contact_kind">{page.t("field-contact-kind")}</label>
                <select id="contact_kind" name="kind">
                    <option value="email" selected=!phone>{page.t("contact-kind-email")}</option>
                    <option value="phone" selected=phone>{page.t("contact-kind-phone")}</option>
                </select>
            </div>
            {field(
                Field::new("value", page.t("field-contact-value"), "text", "off")
                    .value(&value)
                    .id("contact_value".into())
                    .hint(page.t("field-destination-hint")),
                e,
            )}
            {field(
                Field::new("password", page.t("field-current-password"), "password", "current-password")
                    .optional()
                    .id("contact_password".into()),
                e,
            )}
            {submit(page.t("contact-add-submit"))}
        })}
    }
}

pub fn account_page(page: &Page, v: AccountView) -> String {
    let e = v.error.as_ref();
    let name = v.typed_name.clone().unwrap_or_else(|| v.display_name.clone());
    let intro = page.t_with(
        "account-signed-in-as",
        &[("name", v.display_name.clone().into()), ("username", v.username.clone().into())],
    );
    let body = view! {
        <p>{intro}</p>
        {notice(v.notice.clone())}
        {error_region(page, e)}
        {form(page, page.action("signout"), "signout-form", view! {
            <button type="submit" class="secondary" id="sign-out">{page.t("sign-out")}</button>
        })}

        <h2 id="profile">{page.t("profile-title")}</h2>
        {form(page, page.action("account/profile"), "profile-form", view! {
            {field(Field::new("display_name", page.t("field-display-name"), "text", "name").value(&name), e)}
            {submit(page.t("profile-save"))}
        })}

        <h2 id="password">{page.t("password-title")}</h2>
        <p class="muted">{page.t("password-note")}</p>
        {form(page, page.action("account/password"), "password-form", view! {
            {field(
                Field::new("current_password", page.t("field-current-password"), "password", "current-password"),
                e,
            )}
            {new_password_fields(page, e)}
            {submit(page.t("password-submit"))}
        })}

        {sessions(page, &v.sessions)}
        {contacts(page, &v)}
        {identities(page, &v)}
    };
    document(page, page.t("account-title"), body)
}
