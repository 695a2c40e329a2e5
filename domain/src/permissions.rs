//! Management permissions and the default permission sets of the three system roles.

pub const MANAGEMENT: &[&str] = &[
    "app.read",
    "app.update",
    "app.delete",
    "user.create",
    "user.read",
    "user.update",
    "user.delete",
    "user.list",
    "role.create",
    "role.read",
    "role.update",
    "role.delete",
    "invite.create",
    "invite.read",
    "invite.revoke",
    "apikey.create",
    "apikey.read",
    "apikey.revoke",
    "key.read",
    "key.rotate",
    "license.create",
    "license.read",
    "license.revoke",
    "audit.read",
    "config.read",
    "config.update",
    "waitlist.read",
    "waitlist.update",
    // App members (accounts managing the app): who they are, invites, roles, removal.
    "member.read",
    "member.invite",
    "member.update",
    "member.remove",
    "org.read",
    "org.update",
    "webhook.read",
    "webhook.update",
    // OIDC clients of the app as an OpenID Connect provider.
    "oidc.read",
    "oidc.create",
    "oidc.update",
    "oidc.delete",
];

pub const OWNER: &str = "owner";
pub const ADMIN: &str = "admin";
pub const MEMBER: &str = "member";

/// The system roles seeded into every app, with their default permissions.
pub fn system_roles() -> Vec<(&'static str, &'static str, Vec<String>)> {
    let all = || MANAGEMENT.iter().map(|p| p.to_string());
    vec![
        (OWNER, "Full control of the app", all().collect()),
        (
            ADMIN,
            "Manages users, roles and settings; cannot delete the app",
            all().filter(|p| p != "app.delete").collect(),
        ),
        (
            MEMBER,
            "Default role of new users",
            // Not `user.read`: that would show every member the others' email addresses.
            ["app.read", "role.read"].iter().map(|p| p.to_string()).collect(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_has_everything_admin_all_but_delete() {
        let roles = system_roles();
        assert_eq!(roles[0].2.len(), MANAGEMENT.len());
        assert!(!roles[1].2.iter().any(|p| p == "app.delete"));
        assert_eq!(roles[1].2.len(), MANAGEMENT.len() - 1);
        assert!(roles[2].2.iter().all(|p| MANAGEMENT.contains(&p.as_str())));
    }
}
