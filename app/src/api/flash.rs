//! A secret made by a form posted without JavaScript (an API key, an app credential) waits
//! for the page the browser is sent back to in a cookie sealed by the server, bound to the
//! account's session, the app and what it is: the database never holds it, and nothing but
//! this server can open it. With JavaScript the secret is only in the function's answer.

use domain::engine::Principal;

use super::session::guard;
use super::ConsoleError;

/// One kind of waiting secret, for one session and one app.
pub(crate) struct Flash {
    cookie: &'static str,
    context: String,
}

impl Flash {
    /// `cookie` names the cookie it waits in; `what` binds it to its kind, so one kind's page
    /// never opens another's.
    pub(crate) fn new(cookie: &'static str, what: &str, principal: &Principal, app: &str) -> Flash {
        Flash { cookie, context: format!("{what}:{}:{app}", principal.session_id) }
    }

    /// Keeps `secret` for the next page when the form was posted without JavaScript.
    pub(crate) fn hold(&self, secret: &str) -> Result<(), ConsoleError> {
        if super::plain_form_post() {
            let sealed = guard::state()?.engine.seal_for_browser(secret.as_bytes(), &self.context)?;
            guard::set_cookie(self.cookie, "/console", Some(&sealed), "Strict", Some(600));
        }
        Ok(())
    }

    /// What waits for this page, once: opening it tells the browser to forget it. Another
    /// app's page, or another session's secret, leaves it waiting.
    pub(crate) fn take(&self) -> Result<Option<String>, ConsoleError> {
        let Some(sealed) = guard::request_cookie(self.cookie) else { return Ok(None) };
        let Some(opened) = guard::state()?.engine.open_from_browser(&sealed, &self.context) else { return Ok(None) };
        guard::set_cookie(self.cookie, "/console", None, "Strict", None);
        Ok(String::from_utf8(opened).ok())
    }
}
