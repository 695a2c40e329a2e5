//! Roles and permissions (`/api/v1/apps/{slug}/roles`, `/permissions`): custom roles with
//! custom permission strings, the system roles' rules, deleting a role that is held, and role
//! changes reaching the users' `me/permissions` at once.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::end_users::user_id;
use crate::helpers::{access_token, assert_error, both_stores, json_of, TestApp};
use crate::quickstart::{assert_recent_timestamp, keys_of};

fn names(list: &Value, field: &str) -> Vec<String> {
    let mut names: Vec<String> = list[field]
        .as_array()
        .unwrap_or_else(|| panic!("no {field} array: {list}"))
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort_unstable();
    names
}

async fn permissions_of(app: &TestApp, token: &str) -> Value {
    json_of(app.get_with_bearer("/perm/v1/me/permissions", token).await, StatusCode::OK).await
}

async fn create_role(app: &TestApp, owner: &str, body: Value) -> reqwest::Response {
    app.post_json_with_bearer("/api/v1/apps/perm/roles", owner, &body).await
}

async fn custom_roles_and_permissions(app: TestApp) {
    let owner = app.app_with_owner("perm").await;
    let catalog = json_of(app.get_with_bearer("/api/v1/apps/perm/permissions", &owner).await, StatusCode::OK).await;
    let entries = catalog["permissions"].as_array().unwrap();
    assert_eq!(entries.len(), domain::permissions::MANAGEMENT.len(), "{catalog}");
    for entry in entries {
        assert_eq!(keys_of(entry), ["builtin", "description", "name"], "{entry}");
        assert_eq!(entry["builtin"], true, "{entry}");
    }

    // A custom role with custom permission strings: they are registered as the app's own.
    let role = json_of(
        create_role(
            &app,
            &owner,
            json!({ "name": "billing", "description": "Billing team", "permissions": ["billing.read", "billing.write", "user.read"] }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(keys_of(&role), ["createdAt", "description", "id", "isSystem", "name", "permissions"], "{role}");
    assert_eq!(role["name"], "billing");
    assert_eq!(role["description"], "Billing team");
    assert_eq!(role["isSystem"], false);
    assert_eq!(role["permissions"], json!(["billing.read", "billing.write", "user.read"]));
    assert_recent_timestamp(&role["createdAt"]);
    let fetched = json_of(app.get_with_bearer("/api/v1/apps/perm/roles/billing", &owner).await, StatusCode::OK).await;
    assert_eq!(fetched, role);
    let roles = json_of(app.get_with_bearer("/api/v1/apps/perm/roles", &owner).await, StatusCode::OK).await;
    assert_eq!(names(&roles, "roles"), ["admin", "billing", "member", "owner"]);

    let catalog = json_of(app.get_with_bearer("/api/v1/apps/perm/permissions", &owner).await, StatusCode::OK).await;
    let entries = catalog["permissions"].as_array().unwrap();
    let find = |name: &str| entries.iter().filter(|p| p["name"] == name).cloned().collect::<Vec<Value>>();
    for custom in ["billing.read", "billing.write"] {
        let found = find(custom);
        assert_eq!(found.len(), 1, "{custom} in {catalog}");
        assert_eq!(found[0]["builtin"], false);
    }
    assert_eq!(find("user.read").len(), 1, "a built-in is not registered again");
    assert_eq!(find("user.read")[0]["builtin"], true);

    // Permission strings registered on their own.
    let created = json_of(
        app.post_json_with_bearer(
            "/api/v1/apps/perm/permissions",
            &owner,
            &json!({ "name": "reports.export", "description": "Export reports" }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(created, json!({ "name": "reports.export", "description": "Export reports", "builtin": false }));
    for (name, status, code) in [
        ("reports.export", StatusCode::CONFLICT, "CONFLICT"),
        ("billing.read", StatusCode::CONFLICT, "CONFLICT"),
        ("user.read", StatusCode::CONFLICT, "CONFLICT"),
        ("Reports.export", StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
        ("reports", StatusCode::BAD_REQUEST, "INVALID_REQUEST"),
    ] {
        assert_error(
            app.post_json_with_bearer("/api/v1/apps/perm/permissions", &owner, &json!({ "name": name })).await,
            status,
            code,
        )
        .await;
    }

    // Bad permission strings and role names are refused, and make nothing.
    let long = format!("{}.read", "x".repeat(100));
    for permissions in [
        json!(["billing"]),
        json!(["Billing.read"]),
        json!([".read"]),
        json!(["billing."]),
        json!(["billing..read"]),
        json!(["a b.c"]),
        json!([""]),
        json!([long]),
        json!(["ok.fine", "not ok"]),
        json!("billing.read"),
        json!([1]),
    ] {
        assert_error(
            create_role(&app, &owner, json!({ "name": "broken", "permissions": permissions })).await,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        )
        .await;
    }
    for name in ["", "b", "Billing", "has space", "1abc", "-abc", &"x".repeat(41), "ops.team"] {
        assert_error(
            create_role(&app, &owner, json!({ "name": name, "permissions": [] })).await,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        )
        .await;
    }
    let roles = json_of(app.get_with_bearer("/api/v1/apps/perm/roles", &owner).await, StatusCode::OK).await;
    assert_eq!(names(&roles, "roles"), ["admin", "billing", "member", "owner"]);
    let catalog = json_of(app.get_with_bearer("/api/v1/apps/perm/permissions", &owner).await, StatusCode::OK).await;
    assert!(!catalog.to_string().contains("ok.fine"), "a refused role registered its permissions: {catalog}");

    // Duplicates.
    for name in ["billing", "member", "owner"] {
        assert_error(
            create_role(&app, &owner, json!({ "name": name, "permissions": [] })).await,
            StatusCode::CONFLICT,
            "CONFLICT",
        )
        .await;
    }

    // Editing a custom role.
    let edited = json_of(
        app.patch_json_with_bearer(
            "/api/v1/apps/perm/roles/billing",
            &owner,
            &json!({ "description": "Money", "permissions": ["billing.read", "invoices.send"] }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["description"], "Money");
    assert_eq!(edited["permissions"], json!(["billing.read", "invoices.send"]));
    let fetched = json_of(app.get_with_bearer("/api/v1/apps/perm/roles/billing", &owner).await, StatusCode::OK).await;
    assert_eq!(fetched, edited);
    for body in [json!({ "name": "renamed" }), json!({ "permissions": ["Bad"] }), json!({ "permissions": "x.y" })] {
        assert_error(
            app.patch_json_with_bearer("/api/v1/apps/perm/roles/billing", &owner, &body).await,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        )
        .await;
    }
    assert_eq!(
        json_of(app.get_with_bearer("/api/v1/apps/perm/roles/billing", &owner).await, StatusCode::OK).await,
        edited
    );
    for response in [
        app.get_with_bearer("/api/v1/apps/perm/roles/ghost", &owner).await,
        app.patch_json_with_bearer("/api/v1/apps/perm/roles/ghost", &owner, &json!({ "description": "x" })).await,
        app.delete_with_bearer("/api/v1/apps/perm/roles/ghost", &owner).await,
    ] {
        assert_error(response, StatusCode::NOT_FOUND, "NOT_FOUND").await;
    }
}

async fn system_roles(app: TestApp) {
    let owner = app.app_with_owner("perm").await;
    let user = access_token(&app.signup_end_user("perm", "ada").await);
    let roles = json_of(app.get_with_bearer("/api/v1/apps/perm/roles", &owner).await, StatusCode::OK).await;
    let role = |name: &str| roles["roles"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap().clone();
    let all: Vec<Value> = domain::permissions::MANAGEMENT.iter().map(|p| json!(p)).collect();
    for name in ["owner", "admin", "member"] {
        assert_eq!(role(name)["isSystem"], true, "{name}");
    }
    let sorted = |v: &Value| {
        let mut list = v["permissions"].as_array().unwrap().clone();
        list.sort_by_key(|p| p.as_str().unwrap().to_owned());
        list
    };
    let mut expected = all.clone();
    expected.sort_by_key(|p| p.as_str().unwrap().to_owned());
    assert_eq!(sorted(&role("owner")), expected);
    expected.retain(|p| p != "app.delete");
    assert_eq!(sorted(&role("admin")), expected);
    assert_eq!(sorted(&role("member")), [json!("app.read"), json!("role.read")]);

    // member's permissions can be edited; its users see the change at once.
    assert_eq!(
        permissions_of(&app, &user).await,
        json!({ "role": "member", "permissions": ["app.read", "role.read"] })
    );
    let edited = json_of(
        app.patch_json_with_bearer(
            "/api/v1/apps/perm/roles/member",
            &owner,
            &json!({ "permissions": ["app.read", "user.read", "role.read", "billing.read"] }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["isSystem"], true);
    assert_eq!(
        permissions_of(&app, &user).await,
        json!({ "role": "member", "permissions": ["app.read", "billing.read", "role.read", "user.read"] })
    );
    let catalog = json_of(app.get_with_bearer("/api/v1/apps/perm/permissions", &owner).await, StatusCode::OK).await;
    assert!(
        catalog["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!({ "name": "billing.read", "description": "", "builtin": false })),
        "{catalog}"
    );

    // The owner role keeps every management permission, so nobody locks the owners out.
    let mut fewer = all.clone();
    fewer.retain(|p| p != "role.update");
    for permissions in [json!(fewer), json!([]), json!(["billing.read"])] {
        assert_error(
            app.patch_json_with_bearer("/api/v1/apps/perm/roles/owner", &owner, &json!({ "permissions": permissions }))
                .await,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        )
        .await;
    }
    let mut more = all.clone();
    more.push(json!("billing.read"));
    let edited = json_of(
        app.patch_json_with_bearer("/api/v1/apps/perm/roles/owner", &owner, &json!({ "permissions": more })).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(edited["permissions"].as_array().unwrap().len(), all.len() + 1);
    // Still in charge.
    json_of(app.get_with_bearer("/api/v1/apps/perm/roles", &owner).await, StatusCode::OK).await;
    // admin can lose anything.
    json_of(
        app.patch_json_with_bearer("/api/v1/apps/perm/roles/admin", &owner, &json!({ "permissions": ["user.list"] }))
            .await,
        StatusCode::OK,
    )
    .await;

    // System roles are never deleted, even with somewhere to move their holders.
    for name in ["owner", "admin", "member"] {
        for query in ["", "?reassign_to=admin"] {
            assert_error(
                app.delete_with_bearer(&format!("/api/v1/apps/perm/roles/{name}{query}"), &owner).await,
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
            )
            .await;
        }
    }
    let roles = json_of(app.get_with_bearer("/api/v1/apps/perm/roles", &owner).await, StatusCode::OK).await;
    assert_eq!(names(&roles, "roles"), ["admin", "member", "owner"]);
}

async fn deleting_a_held_role(app: TestApp) {
    let owner = app.app_with_owner("perm").await;
    json_of(
        create_role(&app, &owner, json!({ "name": "billing", "permissions": ["billing.read"] })).await,
        StatusCode::CREATED,
    )
    .await;
    let pair = app.signup_end_user("perm", "ada").await;
    let token = access_token(&pair);
    let id = user_id(&app, &owner, "perm", "ada").await;
    let user_path = format!("/api/v1/apps/perm/end-users/{id}");
    // Cached before the change, as a busy user's would be.
    assert_eq!(permissions_of(&app, &token).await["role"], "member");

    // Give the user the custom role: it reaches them at once.
    let updated =
        json_of(app.patch_json_with_bearer(&user_path, &owner, &json!({ "role": "billing" })).await, StatusCode::OK)
            .await;
    assert_eq!(updated["role"], "billing");
    assert_eq!(permissions_of(&app, &token).await, json!({ "role": "billing", "permissions": ["billing.read"] }));
    assert_eq!(app.me("perm", &token).await["role"], "billing");

    // Held: refused without somewhere to move the holders.
    let body = assert_error(
        app.delete_with_bearer("/api/v1/apps/perm/roles/billing", &owner).await,
        StatusCode::CONFLICT,
        "CONFLICT",
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("reassign_to"), "{body}");
    for query in ["?reassign_to=billing", "?reassign_to=ghost", "?reassign_to="] {
        assert_error(
            app.delete_with_bearer(&format!("/api/v1/apps/perm/roles/billing{query}"), &owner).await,
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
        )
        .await;
    }
    assert_eq!(json_of(app.get_with_bearer(&user_path, &owner).await, StatusCode::OK).await["role"], "billing");

    // With reassign_to: gone, and the user moved.
    let response = app.delete_with_bearer("/api/v1/apps/perm/roles/billing?reassign_to=member", &owner).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(json_of(app.get_with_bearer(&user_path, &owner).await, StatusCode::OK).await["role"], "member");
    assert_eq!(app.me("perm", &token).await["role"], "member");
    assert_eq!(
        permissions_of(&app, &token).await,
        json!({ "role": "member", "permissions": ["app.read", "role.read"] })
    );
    assert_error(
        app.get_with_bearer("/api/v1/apps/perm/roles/billing", &owner).await,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
    )
    .await;
    let signin = app.signin_end_user("perm", "ada").await;
    assert_eq!(crate::quickstart::verify_with_jwks(&app, "perm", &access_token(&signin)).await["role"], "member");
    // The role's custom permissions stay registered for the app.
    let catalog = json_of(app.get_with_bearer("/api/v1/apps/perm/permissions", &owner).await, StatusCode::OK).await;
    assert!(catalog.to_string().contains("billing.read"), "{catalog}");

    // An unheld custom role goes without more ado (the camelCase parameter works too).
    for (name, query) in [("temp", ""), ("temp2", "?reassignTo=admin")] {
        json_of(create_role(&app, &owner, json!({ "name": name })).await, StatusCode::CREATED).await;
        let response = app.delete_with_bearer(&format!("/api/v1/apps/perm/roles/{name}{query}"), &owner).await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    let roles = json_of(app.get_with_bearer("/api/v1/apps/perm/roles", &owner).await, StatusCode::OK).await;
    assert_eq!(names(&roles, "roles"), ["admin", "member", "owner"]);
    // Giving a user a role that does not exist is refused.
    assert_error(
        app.patch_json_with_bearer(&user_path, &owner, &json!({ "role": "billing" })).await,
        StatusCode::BAD_REQUEST,
        "INVALID_REQUEST",
    )
    .await;
}

both_stores!(custom_roles_and_permissions, system_roles, deleting_a_held_role);
