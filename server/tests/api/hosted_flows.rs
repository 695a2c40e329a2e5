//! The hosted pages' flows with JavaScript off, end to end through real mail: sign up,
//! verify the email, sign in and out, the account page (profile, password, sessions,
//! contacts), a reset, an invite, a magic link and a one-time code; and errors shown in the
//! form with the input kept.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{both_stores, json_of, link_in, mail_to, TestApp, PASSWORD};
use crate::hosted::{assert_secure_page, hosted_app, signed_up, Browser, Page};

/// Signs in through the page; answers the page it lands on.
async fn sign_in(browser: &Browser, slug: &str, identifier: &str, password: &str) -> Page {
    let page = browser.get(&format!("/{slug}/signin")).await;
    browser.submit(&page, "signin-form", &[("identifier", identifier), ("password", password)]).await
}

/// An end-user of `acme` invited by `owner` at `email`, who accepts on the invite's page
/// with a password: their browser, and the page it lands on.
pub(crate) async fn invited(app: &TestApp, owner: &str, email: &str) -> (Browser, Page) {
    let invite =
        app.post_json_with_bearer("/api/v1/apps/acme/end-users/invites", owner, &json!({"email": email})).await;
    assert_eq!(invite.status(), StatusCode::CREATED);
    let link = link_in(&mail_to(app, email).await, "accept-invite");
    let browser = Browser::new(app);
    let page = browser.get(&link).await;
    assert!(page.contains(email), "{}", page.html);
    let welcome = browser.submit(&page, "invite-form", &[("password", PASSWORD), ("password_confirm", PASSWORD)]).await;
    (browser, welcome)
}

/// The first run of exactly six digits.
pub(crate) fn code_in(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    (0..chars.len().saturating_sub(5))
        .find(|&i| {
            chars[i..i + 6].iter().all(char::is_ascii_digit)
                && (i == 0 || !chars[i - 1].is_ascii_digit())
                && chars.get(i + 6).is_none_or(|c| !c.is_ascii_digit())
        })
        .map(|i| chars[i..i + 6].iter().collect())
        .unwrap_or_else(|| panic!("no code in {text}"))
}

/// The ids in `id="{prefix}…"` attributes, in page order.
fn ids(html: &str, prefix: &str) -> Vec<String> {
    let marker = format!("id=\"{prefix}");
    html.split(&marker).skip(1).map(|rest| rest[..rest.find('"').unwrap()].to_owned()).collect()
}

/// Sign up, verify the email from the mail, sign out and in, two devices, the profile, the
/// password (the other devices signed out), and one session signed out from another.
async fn signup_verify_and_account(app: TestApp) {
    let owner = hosted_app(&app, "acme", json!({"verify_email_on_signup": true})).await;
    let ann = signed_up(&app, "acme", "ann@example.com").await;
    let account = ann.get("/acme/account").await;
    assert!(account.contains("Signed in as ann (ann)") && account.contains("ann@example.com"), "{}", account.html);
    assert!(account.contains("Check your email") || account.contains("Not verified"), "{}", account.html);

    // The emailed link: its page asks, its form verifies.
    let link = link_in(&mail_to(&app, "ann@example.com").await, "verify-email");
    let confirm = ann.get(&link).await;
    assert_eq!(confirm.status, StatusCode::OK);
    let verified = ann.submit(&confirm, "confirm-form", &[]).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.html);
    assert!(verified.contains("Email confirmed"), "{}", verified.html);
    assert!(ann.get("/acme/account").await.contains("Verified"));

    // Out, and in again with the email.
    let account = ann.get("/acme/account").await;
    let out = ann.submit(&account, "signout-form", &[]).await;
    assert!(out.path.starts_with("/acme/signed-out") && out.contains("You are signed out"), "{}", out.path);
    assert_eq!(ann.cookie("session"), None, "the session cookie is forgotten");
    let gone = ann.get_raw("/acme/account").await;
    assert_eq!(gone.status(), StatusCode::SEE_OTHER);
    assert!(gone.headers()["location"].to_str().unwrap().starts_with("/acme/signin"));
    let back = sign_in(&ann, "acme", "ann@example.com", PASSWORD).await;
    assert!(ann.cookie("session").is_some_and(|c| !c.is_empty()));
    assert!(back.path.starts_with("/acme/account") && back.contains("You are signed in"), "{}", back.html);

    // A second device.
    let phone = Browser::new(&app);
    assert!(sign_in(&phone, "acme", "ann", PASSWORD).await.path.starts_with("/acme/account"));
    let account = ann.get("/acme/account").await;
    assert_eq!(ids(&account.html, "session-form-").len(), 2, "{}", account.html);
    assert!(account.contains("TestBrowser/1.0") && account.contains("127.0.0.1"), "{}", account.html);

    // The profile.
    let saved = ann.submit(&account, "profile-form", &[("display_name", "Ann Example")]).await;
    assert!(saved.contains("Your profile was saved") && saved.contains("Signed in as Ann Example"), "{}", saved.html);
    let refused = ann.submit(&saved, "profile-form", &[("display_name", "   ")]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);

    // The password: the current one is required, the other device is signed out.
    let account = ann.get("/acme/account").await;
    let new = "AnotherPassword456";
    let wrong = ann
        .submit(
            &account,
            "password-form",
            &[("current_password", "nope"), ("password", new), ("password_confirm", new)],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.contains("Your current password is not right"), "{}", wrong.html);
    assert!(!wrong.html.contains(new));
    let changed = ann
        .submit(
            &account,
            "password-form",
            &[("current_password", PASSWORD), ("password", new), ("password_confirm", new)],
        )
        .await;
    assert!(changed.contains("Your password was changed"), "{}", changed.html);
    assert_eq!(ids(&changed.html, "session-form-").len(), 1);
    assert!(phone.get("/acme/account").await.path.starts_with("/acme/signin"));
    let notice = mail_to(&app, "ann@example.com").await;
    assert!(notice.subject().unwrap().contains("password was changed"), "{:?}", notice.subject());
    assert_eq!(sign_in(&Browser::new(&app), "acme", "ann", PASSWORD).await.status, StatusCode::UNAUTHORIZED);

    // One session signed out from the other.
    let laptop = Browser::new(&app);
    assert!(sign_in(&laptop, "acme", "ann", new).await.path.starts_with("/acme/account"));
    let account = ann.get("/acme/account").await;
    let rows: Vec<&str> = account.html.split("<tr>").filter(|r| r.contains("session-form-")).collect();
    let other = rows.iter().find(|r| !r.contains("This device")).expect("the laptop's session");
    let id = ids(other, "session-form-").remove(0);
    let done = ann.submit(&account, &format!("session-form-{id}"), &[]).await;
    assert!(done.contains("That session was signed out"), "{}", done.html);
    assert!(laptop.get("/acme/account").await.path.starts_with("/acme/signin"));
    assert!(ann.get("/acme/account").await.path.starts_with("/acme/account"));

    let log =
        json_of(app.get_with_bearer("/api/v1/apps/acme/audit?type=end_user.*", &owner).await, StatusCode::OK).await;
    let types: Vec<&str> = log["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"end_user.password_changed") && types.contains(&"end_user.updated"), "{types:?}");
}

/// A forgotten password through the mail, an invite, a magic link and a one-time code, each
/// ending signed in on the account page (or, for the reset, able to sign in).
async fn links_and_codes(app: TestApp) {
    let owner = hosted_app(&app, "acme", json!({"magic_link_enabled": true, "otp_enabled": true})).await;
    signed_up(&app, "acme", "bob@example.com").await;
    let verification = mail_to(&app, "bob@example.com").await;
    assert!(verification.subject().unwrap().contains("Confirm your email"));

    // Reset: the form, the mail, the new password (mismatch and policy said in the form).
    let browser = Browser::new(&app);
    let page = browser.get("/acme/forgot-password").await;
    let sent = browser.submit(&page, "email-form", &[("email", "bob@example.com")]).await;
    assert!(sent.contains("Check your email"), "{}", sent.html);
    let link = link_in(&mail_to(&app, "bob@example.com").await, "reset-password");
    let form = browser.get(&link).await;
    let mismatch =
        browser.submit(&form, "reset-form", &[("password", "NewPassword789"), ("password_confirm", "Other789")]).await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    assert!(mismatch.contains("two passwords are not the same") && mismatch.contains("aria-invalid=\"true\""));
    let weak = browser.submit(&form, "reset-form", &[("password", "short"), ("password_confirm", "short")]).await;
    assert!(weak.contains("The password needs at least 8 characters"), "{}", weak.html);
    let done = browser
        .submit(&form, "reset-form", &[("password", "NewPassword789"), ("password_confirm", "NewPassword789")])
        .await;
    assert!(done.contains("Password changed"), "{}", done.html);
    assert!(sign_in(&browser, "acme", "bob", "NewPassword789").await.path.starts_with("/acme/account"));
    let spent = browser.get(&link).await;
    assert_eq!(spent.status, StatusCode::BAD_REQUEST);
    assert!(spent.contains("no longer works"));

    // An invite: the page, a password, and the new user is signed in.
    let (_, welcome) = invited(&app, &owner, "ivy@example.com").await;
    assert!(welcome.path.starts_with("/acme/account") && welcome.contains("Welcome!"), "{}", welcome.html);
    assert!(welcome.contains("ivy@example.com"));

    // A magic link.
    let cat = Browser::new(&app);
    let page = cat.get("/acme/magic-link").await;
    let sent = cat.submit(&page, "email-form", &[("email", "ivy@example.com")]).await;
    assert!(sent.contains("sign-in link is on its way"), "{}", sent.html);
    let link = link_in(&mail_to(&app, "ivy@example.com").await, "sign-in/token");
    let page = cat.get(&link).await;
    assert_secure_page(&page);
    let signed = cat.submit(&page, "confirm-form", &[]).await;
    assert!(signed.path.starts_with("/acme/account") && signed.contains("ivy@example.com"), "{}", signed.html);

    // A one-time code by email: a wrong one said in the form, the right one signs in.
    let dan = Browser::new(&app);
    let page = dan.get("/acme/otp").await;
    let code_page = dan.submit(&page, "otp-send-form", &[("destination", "ivy@example.com")]).await;
    assert!(code_page.path.starts_with("/acme/otp/verify"), "{}", code_page.path);
    let code = code_in(&mail_to(&app, "ivy@example.com").await.text_body().unwrap());
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = dan.submit(&code_page, "otp-verify-form", &[("code", wrong)]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.contains("This code is wrong or has expired"), "{}", refused.html);
    let signed = dan.submit(&refused, "otp-verify-form", &[("code", &code)]).await;
    assert!(signed.path.starts_with("/acme/account") && signed.contains("ivy@example.com"), "{}", signed.html);
}

/// Errors come back in the form, announced, with what was typed (never a password).
async fn errors_keep_the_input(app: TestApp) {
    hosted_app(&app, "acme", json!({"password_require_number": true})).await;
    let browser = Browser::new(&app);
    let page = browser.get("/acme/signin").await;
    let wrong = browser
        .submit(&page, "signin-form", &[("identifier", "eve@example.com"), ("password", "Secret-typed-1")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.contains("value=\"eve@example.com\"") && !wrong.contains("Secret-typed-1"), "{}", wrong.html);
    let region = &wrong.html[wrong.html.find("id=\"form-errors\"").unwrap()..];
    assert!(region.contains("aria-live=\"assertive\"") && region.contains("is not right"), "{region}");

    let page = browser.get("/acme/signup").await;
    let typed = [("email", "eve@example.com"), ("name", "Eve Q"), ("username", "eveq")];
    let mut fields = typed.to_vec();
    fields.extend([("password", "NoDigitsHere"), ("password_confirm", "NoDigitsHere")]);
    let weak = browser.submit(&page, "signup-form", &fields).await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(weak.contains("The password needs a number"), "{}", weak.html);
    for (_, value) in typed {
        assert!(weak.contains(&format!("value=\"{value}\"")), "{value} kept: {}", weak.html);
    }
    assert!(!weak.contains("NoDigitsHere"));
    let mut fields = typed.to_vec();
    fields.extend([("password", "Digits123"), ("password_confirm", "Digits124")]);
    let mismatch = browser.submit(&page, "signup-form", &fields).await;
    assert!(mismatch.contains("two passwords are not the same"), "{}", mismatch.html);
    let bad_email = browser
        .submit(
            &page,
            "signup-form",
            &[("email", "not-an-email"), ("password", "Digits123"), ("password_confirm", "Digits123")],
        )
        .await;
    assert_eq!(bad_email.status, StatusCode::BAD_REQUEST);
    assert!(bad_email.contains("valid email") && bad_email.contains("value=\"not-an-email\""), "{}", bad_email.html);
}

/// Contacts on the account page: add an email (current password required), verify it by a
/// code, make it primary, remove the old one.
async fn contacts_on_the_account_page(app: TestApp) {
    hosted_app(&app, "acme", json!({})).await;
    let ann = signed_up(&app, "acme", "ann@example.com").await;
    let account = ann.get("/acme/account").await;
    let fields = [("kind", "email"), ("value", "ann2@example.com")];
    let refused = ann.submit(&account, "contact-add-form", &[fields[0], fields[1], ("password", "wrong")]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.contains("value=\"ann2@example.com\"") && refused.contains("current password"), "{}", refused.html);
    let added = ann.submit(&account, "contact-add-form", &[fields[0], fields[1], ("password", PASSWORD)]).await;
    assert!(added.contains("The contact was added") && added.contains("ann2@example.com"), "{}", added.html);
    let row = added.html.split("<tr>").find(|r| r.contains("ann2@example.com")).expect("the new address's row");
    let id = ids(row, "contact-code-form-").into_iter().next().expect("a send-code form");
    let sent = ann.submit(&added, &format!("contact-code-form-{id}"), &[]).await;
    assert!(sent.contains("A code is on its way"), "{}", sent.html);
    let code = loop {
        let message = mail_to(&app, "ann2@example.com").await;
        if message.subject().is_some_and(|s| s.contains("code")) {
            break code_in(&message.text_body().unwrap());
        }
    };
    let verified = ann.submit(&sent, &format!("contact-verify-form-{id}"), &[("code", &code)]).await;
    assert!(verified.contains("The contact is verified"), "{}", verified.html);
    let primary = ann
        .submit(&verified, &format!("contact-change-form-{id}"), &[("action", "primary"), ("password", PASSWORD)])
        .await;
    assert!(primary.contains("Your primary email was changed"), "{}", primary.html);
    let row = primary.html.split("<tr>").find(|r| r.contains(">ann@example.com")).expect("the old address's row");
    let old = ids(row, "contact-change-form-").into_iter().next().expect("the old address's form");
    assert_ne!(old, id);
    let removed = ann
        .submit(&primary, &format!("contact-change-form-{old}"), &[("action", "remove"), ("password", PASSWORD)])
        .await;
    assert!(removed.contains("The contact was removed"), "{}", removed.html);
    assert!(!removed.contains(">ann@example.com"), "{}", removed.html);
}

both_stores!(signup_verify_and_account, links_and_codes, errors_keep_the_input, contacts_on_the_account_page);
