//! The Hosted pages tab: where an app's end-users may be sent after its pages and links, which
//! other sites may post to them, how long browser sessions last, CSRF tokens, and the
//! branding of the pages and mail, with a preview that follows the form as it is typed. One
//! form, saved whole through the config's checks, with or without JavaScript.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use shared::config::{Branding, CssValue, CSS_VARIABLES};

use super::app::{permissions_resource, slug_param, unavailable, Perms};
use super::config::toggle;
use super::error_text;
use super::templates::escaped;
use crate::api::{self, HostedView, SaveHostedSettings};

/// The app's hosted sign-in page: where "View hosted pages" goes.
pub(crate) fn hosted_href(slug: &str) -> String {
    format!("/{slug}/signin")
}

/// A link to the app's hosted pages, in a new tab (outside the console's router).
pub(crate) fn view_hosted_link(slug: String) -> impl IntoView {
    view! {
        <a href=hosted_href(&slug) target="_blank" rel="external noopener" data-testid="view-hosted">
            "View hosted pages ↗"
        </a>
    }
}

#[component]
pub fn HostedPage() -> impl IntoView {
    let slug = slug_param();
    let save = ServerAction::<SaveHostedSettings>::new();
    // Not refetched after saving: the form already shows what was saved.
    let settings = Resource::new(slug, api::hosted_settings);
    let permissions = permissions_resource();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading the hosted pages' settings…"</p> }>
            {move || Suspend::new(async move {
                let perms = Perms::from(permissions.await);
                match settings.await {
                    Ok(settings) => Either::Left(view! {
                        <Title text=format!("Hosted pages · {} · Rampart", slug())/>
                        <HostedEditor slug=slug() settings editable=perms.has("config.update") save/>
                    }),
                    Err(e) => Either::Right(unavailable(e)),
                }
            })}
        </Suspense>
    }
}

/// One value of the branding the form edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BrandField {
    DisplayName,
    LogoUrl,
    PrimaryColor,
    Theme,
    SupportUrl,
    /// The CSS variable at this index of `CSS_VARIABLES`.
    Css(usize),
}

impl BrandField {
    const COUNT: usize = 5 + CSS_VARIABLES.len();

    fn index(self) -> usize {
        match self {
            BrandField::DisplayName => 0,
            BrandField::LogoUrl => 1,
            BrandField::PrimaryColor => 2,
            BrandField::Theme => 3,
            BrandField::SupportUrl => 4,
            BrandField::Css(i) => 5 + i,
        }
    }

    fn all() -> impl Iterator<Item = BrandField> {
        [
            BrandField::DisplayName,
            BrandField::LogoUrl,
            BrandField::PrimaryColor,
            BrandField::Theme,
            BrandField::SupportUrl,
        ]
        .into_iter()
        .chain((0..CSS_VARIABLES.len()).map(BrandField::Css))
    }

    /// Its name in the config, as the config's refusals start with it.
    fn path(self) -> String {
        match self {
            BrandField::DisplayName => "branding.display_name".into(),
            BrandField::LogoUrl => "branding.logo_url".into(),
            BrandField::PrimaryColor => "branding.primary_color".into(),
            BrandField::Theme => "branding.theme".into(),
            BrandField::SupportUrl => "branding.support_url".into(),
            BrandField::Css(i) => format!("branding.css_variables.{}", CSS_VARIABLES[i].0),
        }
    }

    /// Its name in the posted form.
    fn input_name(self) -> String {
        match self {
            BrandField::Css(i) => format!("css[{}]", CSS_VARIABLES[i].0),
            field => format!("branding[{}]", field.path().trim_start_matches("branding.")),
        }
    }

    fn value_in(self, branding: &Branding) -> String {
        match self {
            BrandField::DisplayName => branding.display_name.clone(),
            BrandField::LogoUrl => branding.logo_url.clone(),
            BrandField::PrimaryColor => branding.primary_color.clone(),
            BrandField::Theme => branding.theme.clone(),
            BrandField::SupportUrl => branding.support_url.clone(),
            BrandField::Css(i) => branding.css_variables.get(CSS_VARIABLES[i].0).cloned().unwrap_or_default(),
        }
    }

    /// Puts `value` (as the server reads it: trimmed) into `branding`; a blank CSS variable
    /// is no variable.
    fn set_in(self, branding: &mut Branding, value: &str) {
        let value = value.trim().to_owned();
        match self {
            BrandField::DisplayName => branding.display_name = value,
            BrandField::LogoUrl => branding.logo_url = value,
            BrandField::PrimaryColor => branding.primary_color = value,
            BrandField::Theme => branding.theme = value,
            BrandField::SupportUrl => branding.support_url = value,
            BrandField::Css(i) if value.is_empty() => {
                branding.css_variables.remove(CSS_VARIABLES[i].0);
            }
            BrandField::Css(i) => {
                branding.css_variables.insert(CSS_VARIABLES[i].0.to_owned(), value);
            }
        }
    }

    /// Why the server would refuse `value` here: the config's own check, on this value alone.
    fn refusal(self, value: &str) -> Option<String> {
        let mut alone = Branding::default();
        self.set_in(&mut alone, value);
        alone.check().err().map(|e| e.0)
    }
}

/// The branding as typed, one signal per value, and whether each was edited since the last
/// save's answer.
#[derive(Clone, Copy)]
struct Typed {
    values: [RwSignal<String>; BrandField::COUNT],
    edited: [RwSignal<bool>; BrandField::COUNT],
}

impl Typed {
    fn new(branding: &Branding) -> Typed {
        let fields: Vec<BrandField> = BrandField::all().collect();
        Typed {
            values: std::array::from_fn(|i| RwSignal::new(fields[i].value_in(branding))),
            edited: std::array::from_fn(|_| RwSignal::new(false)),
        }
    }

    fn of(self, field: BrandField) -> RwSignal<String> {
        self.values[field.index()]
    }

    /// Takes what was typed into `field`.
    fn input(self, field: BrandField, value: String) {
        self.values[field.index()].set(value);
        self.edited[field.index()].set(true);
    }

    /// What the pages would show: each typed value the server would take, and the saved one
    /// in place of each it would refuse.
    fn applied(self, saved: &Branding) -> Branding {
        let mut branding = saved.clone();
        for field in BrandField::all() {
            let value = self.of(field).get();
            if field.refusal(&value).is_none() {
                field.set_in(&mut branding, &value);
            }
        }
        branding
    }
}

/// The refusal of the last save when it names `field`.
fn refused(save: ServerAction<SaveHostedSettings>, field: String) -> Signal<Option<String>> {
    Signal::derive(move || {
        save.value().with(|v| match v {
            Some(Err(e)) => {
                let message = e.to_string();
                let names = message.strip_prefix(&field).is_some_and(|rest| rest.starts_with([' ', ':']));
                names.then_some(message)
            }
            _ => None,
        })
    })
}

/// The message under a field the server refused, or that would be refused as typed.
fn field_error(error: Signal<Option<String>>) -> impl IntoView {
    move || error.get().map(|message| view! { <span class="field-error">{message}</span> })
}

/// A list, one entry per line.
fn lines(
    field: &'static str,
    label: &'static str,
    hint: &'static str,
    values: Vec<String>,
    placeholder: &'static str,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let rows = (values.len() + 1).clamp(3, 12).to_string();
    view! {
        <label class="field block" class:invalid=move || error.with(Option::is_some)>
            <span>{label}</span>
            <textarea name=format!("config[{field}]") rows=rows placeholder=placeholder spellcheck="false"
                aria-invalid=move || error.with(Option::is_some).then_some("true")
                inner_html=escaped(&values.join("\n"))></textarea>
            <span class="hint">{hint}" "<code>{field}</code></span>
            {field_error(error)}
        </label>
    }
}

/// The units a lifetime is shown in, largest first.
const UNITS: [(i64, &str); 4] = [(86_400, "days"), (3600, "hours"), (60, "minutes"), (1, "seconds")];

/// `seconds` in the largest unit that counts it whole.
fn in_unit(seconds: i64) -> (i64, i64) {
    match UNITS.iter().find(|(unit, _)| seconds != 0 && seconds % unit == 0) {
        Some((unit, _)) => (seconds / unit, *unit),
        None if seconds == 0 => (0, 3600),
        None => (seconds, 1),
    }
}

/// A lifetime: a number and its unit (posted as `unit[field]`, in seconds).
fn duration(
    field: &'static str,
    label: &'static str,
    hint: &'static str,
    seconds: i64,
    error: Signal<Option<String>>,
) -> impl IntoView {
    let (amount, unit) = in_unit(seconds);
    view! {
        <label class="field duration" class:invalid=move || error.with(Option::is_some)>
            <span>{label}</span>
            <span class="duration-input">
                <input type="number" step="any" min="0" name=format!("config[{field}]") value=amount.to_string()
                    aria-invalid=move || error.with(Option::is_some).then_some("true")/>
                <select name=format!("unit[{field}]") aria-label=format!("{label}: unit")>
                    {UNITS.map(|(seconds, name)| view! {
                        <option value=seconds.to_string() selected=seconds == unit>{name}</option>
                    }).collect_view()}
                </select>
            </span>
            <span class="hint">{hint}" "<code>{field}</code></span>
            {field_error(error)}
        </label>
    }
}

/// Rampart's light look, for a colour picker whose field is blank.
fn light_default(variable: &str) -> &'static str {
    match variable {
        "background" => "#f4f5f8",
        "surface" | "on-primary" => "#ffffff",
        "text" => "#1f2330",
        "muted" => "#5b6073",
        "border" => "#d9dce3",
        "error" => "#c92a2a",
        _ => "#3451d1",
    }
}

/// `#rrggbb` for a colour picker, from `#rgb`, `#rrggbb` or `#rrggbbaa`.
fn picker_value(colour: &str) -> Option<String> {
    let hex = colour.trim().strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match hex.len() {
        3 => Some(hex.chars().fold(String::from("#"), |mut out, c| {
            out.push(c);
            out.push(c);
            out
        })),
        6 | 8 => Some(format!("#{}", &hex[..6])),
        _ => None,
    }
    .map(|c| c.to_ascii_lowercase())
}

/// What a branding field's input needs besides its own signal.
#[derive(Clone, Copy)]
struct BrandingForm {
    typed: Typed,
    save: ServerAction<SaveHostedSettings>,
    /// Set once the page runs in the browser: the live checks and the colour pickers need it.
    live: RwSignal<bool>,
}

impl BrandingForm {
    /// What is wrong with the field: the config's check of it as typed, once the page runs
    /// in the browser; else, or when the server refused what the check let through, the last
    /// save's refusal until the field is edited again.
    fn error(self, field: BrandField) -> Signal<Option<String>> {
        let (typed, live) = (self.typed, self.live);
        let saved = refused(self.save, field.path());
        Signal::derive(move || {
            let as_typed = if live.get() { field.refusal(&typed.of(field).get()) } else { None };
            as_typed.or_else(|| if typed.edited[field.index()].get() { None } else { saved.get() })
        })
    }

    fn text(self, field: BrandField, label: &'static str, hint: &'static str, placeholder: String) -> impl IntoView {
        let (typed, value) = (self.typed, self.typed.of(field));
        let error = self.error(field);
        view! {
            <label class="field wide" class:invalid=move || error.with(Option::is_some)>
                <span>{label}</span>
                <input type="text" name=field.input_name() value=value.get_untracked() placeholder=placeholder
                    autocomplete="off" spellcheck="false" on:input=move |ev| typed.input(field, event_target_value(&ev))
                    aria-invalid=move || error.with(Option::is_some).then_some("true")/>
                <span class="hint">{hint}" "<code>{field.path()}</code></span>
                {field_error(error)}
            </label>
        }
    }

    /// A colour as text (what is posted, and where a wrong one can be typed) with a picker
    /// beside it once the page runs in the browser.
    fn colour(
        self,
        field: BrandField,
        label: &'static str,
        hint: &'static str,
        fallback: &'static str,
    ) -> impl IntoView {
        let (typed, value) = (self.typed, self.typed.of(field));
        let error = self.error(field);
        let live = self.live;
        let placeholder = if matches!(field, BrandField::Css(_)) { "Theme default" } else { "#3451d1" };
        view! {
            <label class="field wide" class:invalid=move || error.with(Option::is_some)>
                <span>{label}</span>
                <span class="colour-input">
                    <input type="text" name=field.input_name() value=value.get_untracked() prop:value=value
                        placeholder=placeholder autocomplete="off" spellcheck="false"
                        on:input=move |ev| typed.input(field, event_target_value(&ev))
                        aria-invalid=move || error.with(Option::is_some).then_some("true")/>
                    {move || live.get().then(|| view! {
                        <input type="color" aria-label=format!("Colour picker: {label}")
                            prop:value=move || picker_value(&value.get()).unwrap_or_else(|| fallback.to_owned())
                            on:input=move |ev| typed.input(field, event_target_value(&ev))/>
                    })}
                </span>
                <span class="hint">{hint}" "<code>{field.path()}</code></span>
                {field_error(error)}
            </label>
        }
    }

    fn theme(self) -> impl IntoView {
        let typed = self.typed;
        let value = typed.of(BrandField::Theme);
        let error = self.error(BrandField::Theme);
        let current = value.get_untracked();
        view! {
            <label class="field" class:invalid=move || error.with(Option::is_some)>
                <span>"Theme"</span>
                <select name=BrandField::Theme.input_name() on:change=move |ev| typed.input(BrandField::Theme, event_target_value(&ev))>
                    {[("auto", "Follow the device"), ("light", "Light"), ("dark", "Dark")].map(|(theme, name)| view! {
                        <option value=theme selected=current == theme>{name}</option>
                    }).collect_view()}
                </select>
                <span class="hint">"Light, dark, or whichever the end-user's device prefers. "<code>"branding.theme"</code></span>
                {field_error(error)}
            </label>
        }
    }
}

/// The CSS declarations of a branding, for the preview's `style`: `Branding::css` without
/// its `:root` rule around them (so only checked values), nor the last `;` (the attribute
/// adds its own).
fn declarations(branding: &Branding) -> String {
    let css = branding.css();
    let inner = css.strip_prefix(":root{").and_then(|c| c.strip_suffix('}')).unwrap_or_default();
    inner.trim_end_matches(';').to_owned()
}

#[component]
fn HostedEditor(
    slug: String,
    settings: HostedView,
    editable: bool,
    save: ServerAction<SaveHostedSettings>,
) -> impl IntoView {
    let HostedView { config: c, app_name } = settings;
    let error = error_text(save.value());
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    let plain = move |field: &'static str| refused(save, field.to_owned());
    let live = RwSignal::new(false);
    // Effects run only in the browser, once the page is hydrated.
    Effect::new(move |_| live.set(true));
    let form = BrandingForm { typed: Typed::new(&c.branding), save, live };
    // Each answer of the server is about the values as they were sent.
    Effect::new(move |_| {
        save.value().track();
        for edited in form.typed.edited {
            edited.set(false);
        }
    });
    let stored = c.branding.clone();
    let applied = Memo::new(move |_| form.typed.applied(&stored));
    let variables = CSS_VARIABLES.iter().enumerate().map(|(i, (name, kind))| {
        let field = BrandField::Css(i);
        let label = match *name {
            "background" => "Page background",
            "surface" => "Card background",
            "text" => "Text colour",
            "muted" => "Secondary text colour",
            "border" => "Border colour",
            "error" => "Error colour",
            "on-primary" => "Text on the primary colour",
            "radius" => "Corner radius",
            "font" => "Font",
            _ => name,
        };
        match kind {
            CssValue::Color => form.colour(field, label, "Blank: the theme's.", light_default(name)).into_any(),
            CssValue::Length => {
                form.text(field, label, "0 to 64 px or rem; blank: the theme's.", "8px".into()).into_any()
            }
            CssValue::Font => form
                .text(field, label, "Font families, comma-separated; blank: the system's.", "Inter, sans-serif".into())
                .into_any(),
        }
    });
    let variables = variables.collect_view();
    view! {
        <div class="toolbar">
            <h2 class="first">"Hosted pages"</h2>
            {view_hosted_link(slug.clone())}
        </div>
        <p class="muted small lead">
            "Rampart serves the app's own sign-in, sign-up, password and account pages at "
            <code>{format!("/{slug}/…")}</code>", and mails its links in the same look."
        </p>
        <ActionForm action=save attr:class="settings wide-settings" attr:data-testid="hosted-form">
            <input type="hidden" name="slug" value=slug.clone()/>
            {(!editable).then(|| view! {
                <p class="notice">"Read-only: changing these settings needs the "<code>"config.update"</code>" permission."</p>
            })}
            <div class="branding-layout">
                <fieldset class="card group" disabled=!editable data-testid="branding">
                    <legend>"Branding"</legend>
                    {form.text(BrandField::DisplayName, "Display name", "Shown on the pages and in mail. Blank: the app's name.", app_name.clone())}
                    {form.text(BrandField::LogoUrl, "Logo URL", "An https:// image shown above the form and atop the mail.", "https://cdn.example.com/logo.png".into())}
                    {form.colour(BrandField::PrimaryColor, "Primary colour", "Buttons and links, #rrggbb.", "#3451d1")}
                    {form.theme()}
                    {form.text(BrandField::SupportUrl, "Support link", "Where “Need help?” points: an https:// or mailto: URL. Blank: no link.", "mailto:help@example.com".into())}
                    <details class="disclosure" open=!c.branding.css_variables.is_empty()>
                        <summary>"Colours, corners and font"</summary>
                        <div class="group">{variables}</div>
                    </details>
                </fieldset>
                <Preview applied app_name=app_name.clone() typed=form.typed live/>
            </div>
            <fieldset class="card group" disabled=!editable data-testid="hosted-links">
                <legend>"Redirects and origins"</legend>
                {lines("allowed_redirect_urls", "Allowed redirect URLs",
                    "One URL per line: where a hosted page or an emailed link may send the end-user afterwards (redirect_to, redirectTo). Exact absolute http(s) URLs; paths on this server are always allowed.",
                    c.allowed_redirect_urls.clone(), "https://app.example.com/welcome", plain("allowed_redirect_urls"))}
                {lines("allowed_origins", "Allowed origins",
                    "One origin per line (scheme, host and port: https://app.example.com): the sites whose pages may send cookie-authenticated requests. This server's own origin, and those of the redirect URLs, always may.",
                    c.allowed_origins.clone(), "https://app.example.com", plain("allowed_origins"))}
            </fieldset>
            <fieldset class="card group" disabled=!editable data-testid="hosted-sessions">
                <legend>"Browser sessions"</legend>
                <p class="muted small">"The session cookie a hosted sign-in (or the cookie API) sets."</p>
                {duration("session_cookie_ttl_seconds", "Session lifetime",
                    "How long a session lasts from its sign-in or last renewal: 5 minutes to 365 days.",
                    c.session_cookie_ttl_seconds, plain("session_cookie_ttl_seconds"))}
                {duration("session_cookie_renew_within_seconds", "Renew when used within",
                    "A session used this close to its end lasts another lifetime; 0 never renews. At most the lifetime.",
                    c.session_cookie_renew_within_seconds, plain("session_cookie_renew_within_seconds"))}
                {duration("session_max_lifetime_seconds", "Longest session",
                    "However often it is used, a session ends this long after its sign-in: at least the lifetime, at most 365 days.",
                    c.session_max_lifetime_seconds, plain("session_max_lifetime_seconds"))}
            </fieldset>
            <fieldset class="card group" disabled=!editable data-testid="hosted-csrf">
                <legend>"Cross-site request forgery"</legend>
                {toggle("csrf_token_required", "Require a CSRF token",
                    "Besides the origin checks, every cookie-authenticated write must carry X-CSRF-Token (from auth/csrf/token). The hosted pages' forms always carry theirs.",
                    c.csrf_token_required)}
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

/// A sign-in card in the branding as typed: what the pages will look like, before saving.
/// Values the server would refuse are not applied; they are listed under it.
#[component]
fn Preview(applied: Memo<Branding>, app_name: String, typed: Typed, live: RwSignal<bool>) -> impl IntoView {
    let name = move || {
        applied.with(|b| match b.display_name.trim() {
            "" => app_name.clone(),
            name => name.to_owned(),
        })
    };
    let not_applied =
        move || BrandField::all().filter_map(|field| field.refusal(&typed.of(field).get())).collect::<Vec<_>>();
    view! {
        <aside class="preview-pane" aria-label="Preview of the sign-in page">
            <span class="picker-title">"Preview"<span class="hint">" (as typed, not saved yet)"</span></span>
            <div class="brand-preview" data-testid="brand-preview" inert
                data-theme=move || applied.with(|b| b.theme.clone()) style=move || applied.with(declarations)>
                <div class="bp-card">
                    {move || applied.with(|b| (!b.logo_url.is_empty()).then(|| view! {
                        <img class="bp-logo" src=b.logo_url.clone() alt="" data-testid="preview-logo"/>
                    }))}
                    <p class="bp-name" data-testid="preview-name">{name}</p>
                    <p class="bp-title">"Sign in"</p>
                    <span class="bp-label">"Email"</span>
                    <span class="bp-input">"you@example.com"</span>
                    <span class="bp-label">"Password"</span>
                    <span class="bp-input">"••••••••"</span>
                    <span class="bp-button" data-testid="preview-button">"Sign in"</span>
                    <span class="bp-link">"Forgot your password?"</span>
                    {move || applied.with(|b| (!b.support_url.is_empty()).then(|| view! {
                        <a class="bp-support" href=b.support_url.clone() target="_blank" rel="noopener" data-testid="preview-support">"Need help?"</a>
                    }))}
                </div>
            </div>
            {move || {
                let refused = if live.get() { not_applied() } else { Vec::new() };
                (!refused.is_empty()).then(|| view! {
                    <div class="preview-refused" data-testid="preview-refused" aria-live="polite">
                        <p>"Not applied (the server would refuse it):"</p>
                        <ul>{refused.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
                    </div>
                })
            }}
        </aside>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_show_in_their_largest_whole_unit() {
        assert_eq!(in_unit(604_800), (7, 86_400));
        assert_eq!(in_unit(5400), (90, 60));
        assert_eq!(in_unit(7200), (2, 3600));
        assert_eq!(in_unit(301), (301, 1));
        assert_eq!(in_unit(0), (0, 3600));
    }

    #[test]
    fn pickers_take_six_digits() {
        assert_eq!(picker_value("#ABC").as_deref(), Some("#aabbcc"));
        assert_eq!(picker_value(" #0a7d5a ").as_deref(), Some("#0a7d5a"));
        assert_eq!(picker_value("#0a7d5a80").as_deref(), Some("#0a7d5a"));
        assert_eq!(picker_value("red"), None);
        assert_eq!(picker_value("#12"), None);
        assert_eq!(picker_value("#ggg"), None);
    }

    #[test]
    fn each_field_is_checked_alone_by_the_configs_rules() {
        assert_eq!(BrandField::PrimaryColor.refusal("#0a7d5a"), None);
        assert!(BrandField::PrimaryColor.refusal("red").unwrap().starts_with("branding.primary_color must be"));
        assert!(BrandField::LogoUrl.refusal("javascript:alert(1)").unwrap().starts_with("branding.logo_url"));
        assert_eq!(BrandField::LogoUrl.refusal(""), None);
        let radius = CSS_VARIABLES.iter().position(|(n, _)| *n == "radius").unwrap();
        assert_eq!(BrandField::Css(radius).refusal(""), None, "blank is the theme's");
        assert!(BrandField::Css(radius).refusal("999px").unwrap().starts_with("branding.css_variables.radius must be"));
        assert_eq!(BrandField::Css(radius).input_name(), "css[radius]");
        assert_eq!(BrandField::SupportUrl.input_name(), "branding[support_url]");
    }

    #[test]
    fn the_preview_is_styled_by_checked_values_only() {
        let mut branding = Branding::default();
        BrandField::PrimaryColor.set_in(&mut branding, " #0a7d5a ");
        BrandField::Css(CSS_VARIABLES.iter().position(|(n, _)| *n == "radius").unwrap()).set_in(&mut branding, "4px");
        assert_eq!(declarations(&branding), "--primary:#0a7d5a;--radius:4px");
        branding.css_variables.insert("text".into(), "red;}body{".into());
        assert_eq!(declarations(&branding), "--primary:#0a7d5a;--radius:4px");
    }
}
