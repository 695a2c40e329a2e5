//! The console's view of an app's invites: list them, invite an end-user (the mail carries
//! the code), revoke a pending one.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use shared::InviteView;

use super::ConsoleError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitesView {
    /// Newest first.
    pub invites: Vec<InviteView>,
    /// The roles an invite can give: every role but owner.
    pub roles: Vec<String>,
    /// The role the form starts on: the app's sign-up default, which the engine also gives
    /// when none is named.
    pub default_role: String,
}

/// A whole number of hours, or blank for the engine's default (72).
#[cfg(feature = "ssr")]
fn hours(raw: &str) -> Result<Option<i64>, ConsoleError> {
    match raw.trim() {
        "" => Ok(None),
        hours => hours.parse::<i64>().map(Some).map_err(|_| {
            super::set_status(400);
            ConsoleError::Refused {
                code: "INVALID_REQUEST".into(),
                message: "expiresInHours must be a whole number of hours".into(),
            }
        }),
    }
}

#[server(prefix = "/console/_fn", endpoint = "list_invites")]
pub async fn list_invites(slug: String) -> Result<InvitesView, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let engine = guard::state()?.engine;
    let invites = engine.list_invites(&caller, &slug).await?;
    // Reading the config and the roles takes permissions of their own: without them, the
    // form offers the engine's default.
    let default_role = match engine.config(&caller, &slug).await {
        Ok(config) => config.signup_default_role,
        Err(domain::Error::Forbidden(_)) => domain::permissions::MEMBER.to_owned(),
        Err(e) => return Err(e.into()),
    };
    let roles = super::manage::role_names(&caller, &slug, &default_role)
        .await?
        .into_iter()
        .filter(|r| r != domain::permissions::OWNER)
        .collect();
    Ok(InvitesView { invites, roles, default_role })
}

/// `name` and `expires_in_hours` may be blank; `role` blank is the app's sign-up default.
#[server(prefix = "/console/_fn", endpoint = "create_invite")]
pub async fn create_invite(
    slug: String,
    email: String,
    #[server(default)] name: String,
    #[server(default)] role: String,
    #[server(default)] expires_in_hours: String,
) -> Result<InviteView, ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    let given = |v: String| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let input = domain::engine::InviteInput {
        email,
        name: given(name),
        role_name: given(role),
        expires_in_hours: hours(&expires_in_hours)?,
    };
    Ok(guard::state()?.engine.create_invite(&caller, &slug, input).await?)
}

#[server(prefix = "/console/_fn", endpoint = "revoke_invite")]
pub async fn revoke_invite(slug: String, id: String) -> Result<(), ConsoleError> {
    use super::session::guard;
    let caller = guard::caller().await?;
    guard::state()?.engine.revoke_invite(&caller, &slug, &id).await?;
    Ok(())
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn hours_are_whole_or_blank() {
        assert_eq!(hours(" 48 ").unwrap(), Some(48));
        assert_eq!(hours("").unwrap(), None);
        assert!(hours("two days").unwrap_err().to_string().starts_with("expiresInHours"));
    }

    /// The form as a browser posts it, read the way server functions read it: blank fields
    /// left out are blank.
    #[test]
    fn the_posted_form_reads_field_by_field() {
        let body = "slug=gate&email=ann%40example.com&role=admin&expires_in_hours=24";
        let posted: CreateInvite = serde_qs::Config::new(5, false).deserialize_str(body).unwrap();
        assert_eq!((posted.slug.as_str(), posted.email.as_str()), ("gate", "ann@example.com"));
        assert_eq!((posted.role.as_str(), posted.expires_in_hours.as_str(), posted.name.as_str()), ("admin", "24", ""));
    }
}
