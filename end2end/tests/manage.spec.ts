import {
  accountToken,
  bearer,
  expect,
  hydrated,
  newAccount,
  newEndUser,
  ownerWithApp,
  PASSWORD,
  suffix,
  test,
} from "./fixtures";

test("the auth config is saved through the console, and refused whole with the server's message", async ({
  page,
}, testInfo) => {
  const { token, slug } = await ownerWithApp(page);
  await page.goto(`/console/apps/${slug}`);
  await hydrated(page);
  await page.getByRole("link", { name: "Auth config" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/config$`));

  const form = page.getByTestId("config-form");
  await expect(form.getByLabel("Minimum password length")).toHaveValue("8");
  await form.getByLabel("Minimum password length").fill("12");
  await form.getByLabel("Sign-up open").uncheck();
  await form.getByLabel("Require a number").check();
  await form.getByLabel("Role of new end-users").selectOption("admin");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(form.getByRole("status")).toHaveText("Saved");

  const config = async () => {
    const res = await page.request.get(`/api/v1/apps/${slug}/config`, { headers: bearer(token) });
    expect(res.status()).toBe(200);
    return res.json();
  };
  expect(await config()).toMatchObject({
    password_min_length: 12,
    signup_enabled: false,
    signin_enabled: true,
    password_require_number: true,
    password_require_symbol: false,
    signup_default_role: "admin",
    access_token_ttl_seconds: 3600,
  });
  await page.screenshot({ path: testInfo.outputPath("console-config.png"), fullPage: true });

  // A wrong value: the engine's message beside the form, and nothing of the form saved.
  await form.getByLabel("Minimum password length").fill("20");
  await form.getByLabel("Access token lifetime").fill("5");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(form.getByRole("alert")).toContainText("access_token_ttl_seconds must be between 60 and 86400");
  await expect(form.getByLabel("Access token lifetime")).toHaveAttribute("aria-invalid", "true");
  expect(await config()).toMatchObject({ password_min_length: 12, access_token_ttl_seconds: 3600 });

  // What the page shows after a reload is what was saved.
  await page.reload();
  await expect(form.getByLabel("Minimum password length")).toHaveValue("12");
  await expect(form.getByLabel("Sign-up open")).not.toBeChecked();
  await expect(form.getByLabel("Require a number")).toBeChecked();
  await expect(form.getByLabel("Role of new end-users")).toHaveValue("admin");
});

test("a role with an app permission is created, edited and deleted", async ({ page }, testInfo) => {
  const { token, slug } = await ownerWithApp(page);
  await page.goto(`/console/apps/${slug}/roles`);
  await hydrated(page);

  const create = page.getByTestId("create-role");
  await create.getByLabel("Role name").fill("billing-viewer");
  await create.getByLabel("Description").fill("Reads invoices");
  await create.getByRole("checkbox", { name: "user.read" }).check();
  await create.getByLabel("Other permissions").fill("billing.read");
  await create.getByRole("button", { name: "Create role" }).click();

  const card = page.getByTestId("role-billing-viewer");
  await expect(card).toContainText("custom");
  await expect(card).toContainText("Reads invoices");
  await expect(card.locator(".perms")).toContainText("billing.read");
  await expect(card.locator(".perms")).toContainText("user.read");
  const role = await page.request.get(`/api/v1/apps/${slug}/roles/billing-viewer`, { headers: bearer(token) });
  expect((await role.json()).permissions).toEqual(["user.read", "billing.read"]);
  // The new permission string is in the catalog now: a box of its own.
  await expect(create.getByRole("checkbox", { name: "billing.read" })).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("console-roles.png"), fullPage: true });

  // Edit: drop user.read, keep billing.read.
  await card.getByText("Edit", { exact: true }).click();
  await card.getByRole("checkbox", { name: "user.read" }).uncheck();
  await expect(card.getByRole("checkbox", { name: "billing.read" })).toBeChecked();
  await card.getByRole("button", { name: "Save role" }).click();
  await expect(card.locator(".perms")).not.toContainText("user.read");
  await expect(card.locator(".perms")).toContainText("billing.read");

  // Delete while an end-user holds it: the engine's 409, then a reassignment.
  const user = await newEndUser(page.request, slug, "holder");
  const me = await page.request.get(`/${slug}/v1/me`, { headers: bearer(user.accessToken) });
  const patch = await page.request.patch(`/api/v1/apps/${slug}/end-users/${(await me.json()).id}`, {
    data: { role: "billing-viewer" },
    headers: bearer(token),
  });
  expect(patch.status()).toBe(200);
  await card.getByText("Delete", { exact: true }).click();
  await card.getByRole("button", { name: "Delete role" }).click();
  await expect(card.getByRole("alert")).toContainText("hold this role; pass reassign_to");
  await card.getByLabel("Move its holders to").selectOption("member");
  await card.getByRole("button", { name: "Delete role" }).click();
  await expect(page.getByTestId("role-billing-viewer")).toHaveCount(0);
  const moved = await page.request.get(`/api/v1/apps/${slug}/end-users/${(await me.json()).id}`, { headers: bearer(token) });
  expect((await moved.json()).role).toBe("member");
});

test("an end-user is found, suspended (their bearer refused), moved to a role and deleted", async ({
  page,
}, testInfo) => {
  const { slug } = await ownerWithApp(page);
  const ada = await newEndUser(page.request, slug, "ada");
  const bob = await newEndUser(page.request, slug, "bob");
  expect((await page.request.get(`/${slug}/v1/me`, { headers: bearer(ada.accessToken) })).status()).toBe(200);

  await page.goto(`/console/apps/${slug}`);
  await hydrated(page);
  await page.getByRole("link", { name: "End-users" }).click();
  const list = page.getByTestId("end-users");
  await expect(list).toContainText(ada.username);
  await expect(list).toContainText(bob.username);

  await page.getByLabel("Search end-users").fill(ada.username);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(new RegExp(`/users\\?search=${ada.username}$`));
  await expect(list).toContainText(ada.username);
  await expect(list).not.toContainText(bob.username);

  await list.getByRole("link", { name: ada.display_name }).click();
  await expect(page.getByTestId("user-facts")).toContainText(ada.email);
  await expect(page.getByTestId("user-status")).toHaveText("active");
  await expect(page.getByTestId("sessions").locator("tbody tr")).toHaveCount(1);
  await page.screenshot({ path: testInfo.outputPath("console-end-user.png"), fullPage: true });

  const actions = page.getByTestId("user-actions");
  await actions.getByRole("button", { name: "Suspend" }).click();
  await expect(page.getByTestId("user-status")).toHaveText("suspended");
  await expect(page.getByText("No live sessions.")).toBeVisible();
  expect((await page.request.get(`/${slug}/v1/me`, { headers: bearer(ada.accessToken) })).status()).toBe(401);
  const signin = await page.request.post(`/${slug}/v1/auth/signin`, { data: { identifier: ada.username, password: PASSWORD } });
  expect(signin.status()).toBeGreaterThanOrEqual(400);

  await actions.getByRole("button", { name: "Unsuspend" }).click();
  await expect(page.getByTestId("user-status")).toHaveText("active");

  await actions.getByLabel("Role").selectOption("admin");
  await actions.getByRole("button", { name: "Change role" }).click();
  await expect(page.getByTestId("user-facts")).toContainText("admin");

  await actions.getByText("Delete end-user").click();
  await actions.getByRole("button", { name: "Delete permanently" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/users$`));
  await expect(page.getByTestId("end-users")).toContainText(bob.username);
  await expect(page.getByTestId("end-users")).not.toContainText(ada.username);
});

test("an API key's secret is shown once; the key works until revoked", async ({ page }, testInfo) => {
  const { slug } = await ownerWithApp(page);
  await page.goto(`/console/apps/${slug}/api-keys`);
  await hydrated(page);

  const create = page.getByTestId("create-api-key");
  await create.getByLabel("Key name").fill("billing backend");
  await create.getByRole("checkbox", { name: "user.list" }).check();
  await create.getByRole("checkbox", { name: "rampart.signup.create" }).check();
  await create.getByRole("button", { name: "Create key" }).click();

  const shown = page.getByTestId("new-api-key");
  await expect(shown).toContainText("won't be shown again");
  const secret = (await page.getByTestId("api-key-secret").textContent()) ?? "";
  expect(secret).toMatch(/^rk_/);
  const keys = page.getByTestId("api-keys");
  await expect(keys).toContainText("billing backend");
  await expect(keys).toContainText("rampart.signup.create");
  await expect(keys).toContainText("active");
  await expect(keys).not.toContainText(secret);
  await page.screenshot({ path: testInfo.outputPath("console-api-keys.png"), fullPage: true });

  const listUsers = () => page.request.get(`/api/v1/apps/${slug}/end-users`, { headers: bearer(secret) });
  expect((await listUsers()).status()).toBe(200);

  // Once: a reload no longer shows it.
  await page.reload();
  await expect(keys).toContainText("billing backend");
  await expect(page.getByTestId("new-api-key")).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);

  await hydrated(page);
  await keys.getByRole("button", { name: "Revoke billing backend" }).click();
  await expect(keys).toContainText("revoked");
  expect((await listUsers()).status()).toBe(401);
});

test("an app credential made in the console refreshes sessions from a backend; rotated, then revoked", async ({
  page,
}, testInfo) => {
  const { slug } = await ownerWithApp(page);
  await page.goto(`/console/apps/${slug}`);
  await hydrated(page);
  await page.getByRole("link", { name: "Credentials" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/credentials$`));

  const create = page.getByTestId("create-credential");
  await create.getByLabel("Name").fill("billing backend");
  await create.getByRole("button", { name: "Create credential" }).click();
  const shown = page.getByTestId("new-credential");
  await expect(shown).toContainText("shown this once");
  await expect(shown.getByRole("button", { name: "Copy the app_secret" })).toBeVisible();
  const appId = (await shown.getByTestId("credential-app-id").textContent()) ?? "";
  const appSecret = (await shown.getByTestId("credential-secret").textContent()) ?? "";
  expect(appId).toMatch(/^app_[0-9a-f]+$/);
  expect(appSecret).toMatch(/^ras_/);
  const list = page.getByTestId("credentials");
  const row = list.getByTestId(`credential-${appId}`);
  await expect(row).toContainText("billing backend");
  await expect(row).toContainText("never");
  await expect(list).not.toContainText(appSecret);
  await page.screenshot({ path: testInfo.outputPath("console-credentials.png"), fullPage: true });

  // The app's backend refreshes an end-user's session with it (seed 002).
  const s = suffix();
  const signup = await page.request.post(`/${slug}/v1/auth/signup`, {
    data: { email: `ada-${s}@example.com`, username: `ada-${s}`, password: PASSWORD },
  });
  expect(signup.status()).toBe(201);
  let refreshToken: string = (await signup.json()).refresh_token;
  const refresh = (secret: string) =>
    page.request.post(`/${slug}/v1/auth/refresh`, {
      data: { app_id: appId, app_secret: secret, refresh_token: refreshToken },
    });
  let res = await refresh(appSecret);
  expect(res.status()).toBe(200);
  refreshToken = (await res.json()).refresh_token;
  res = await refresh(`${appSecret}x`);
  expect(res.status()).toBe(401);
  expect((await res.json()).error).toBe("INVALID_APP_CREDENTIALS");

  // Shown once: a reload no longer shows the secret, and the list shows the use.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("new-credential")).toHaveCount(0);
  expect(await page.content()).not.toContain(appSecret);
  await expect(row).not.toContainText("never");

  // Rotated without an overlap: the new secret once, with when the old one stopped.
  await row.locator("summary", { hasText: "Rotate" }).click();
  await row.getByLabel("Old secret works for (seconds)").fill("0");
  await row.getByRole("button", { name: "Rotate secret" }).click();
  await expect(page.getByTestId("previous-secret-until")).toBeVisible();
  const rotated = (await page.getByTestId("credential-secret").textContent()) ?? "";
  expect(rotated).toMatch(/^ras_/);
  expect(rotated).not.toBe(appSecret);
  expect((await refresh(appSecret)).status()).toBe(401);
  res = await refresh(rotated);
  expect(res.status()).toBe(200);
  refreshToken = (await res.json()).refresh_token;

  // Revoked, once confirmed: refused at once.
  await row.locator("summary", { hasText: "Revoke" }).click();
  await row.getByRole("button", { name: "Revoke credential" }).click();
  await expect(row).toContainText("revoked");
  expect((await refresh(rotated)).status()).toBe(401);
});

test("the management pages work without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const account = await newAccount(page);
  const token = await accountToken(page.request, account.username, account.password);
  const slug = `nojs-${Math.random().toString(36).slice(2, 8)}`;
  expect(
    (await page.request.post("/api/v1/apps", { data: { slug, displayName: "No JS" }, headers: bearer(token) })).status(),
  ).toBe(201);
  await page.goto("/console/signin");
  await page.getByLabel("Username or email").fill(account.username);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account")).toHaveText(account.username);

  // Config: a refusal comes back with the page, then a save.
  await page.goto(`/console/apps/${slug}/config`);
  const form = page.getByTestId("config-form");
  await form.getByLabel("Refresh reuse grace").fill("999");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(form.getByRole("alert")).toContainText("refresh_reuse_grace_seconds must be between 0 and 300");
  await form.getByLabel("Refresh reuse grace").fill("30");
  await form.getByLabel("Sign-in open").uncheck();
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(form.getByLabel("Refresh reuse grace")).toHaveValue("30");
  await expect(form.getByLabel("Sign-in open")).not.toBeChecked();
  await expect(form.getByRole("alert")).toHaveText("");
  const config = await (await page.request.get(`/api/v1/apps/${slug}/config`, { headers: bearer(token) })).json();
  expect(config).toMatchObject({ refresh_reuse_grace_seconds: 30, signin_enabled: false, signup_enabled: true });

  // A role.
  await page.goto(`/console/apps/${slug}/roles`);
  const create = page.getByTestId("create-role");
  await create.getByLabel("Role name").fill("auditor");
  await create.getByLabel("Other permissions").fill("reports.read");
  await create.getByRole("button", { name: "Create role" }).click();
  await expect(page.getByTestId("role-auditor")).toContainText("reports.read");

  // API key: the secret once, on the page the form returns to.
  await page.goto(`/console/apps/${slug}/api-keys`);
  await page.getByLabel("Key name").fill("cron");
  await page.getByRole("checkbox", { name: "user.read" }).check();
  await page.getByRole("button", { name: "Create key" }).click();
  await expect(page.getByTestId("api-key-secret")).toContainText("rk_");
  await page.reload();
  await expect(page.getByTestId("api-keys")).toContainText("cron");
  await expect(page.getByTestId("new-api-key")).toHaveCount(0);

  // App credential: the same, in a cookie of its own.
  await page.goto(`/console/apps/${slug}/credentials`);
  await page.getByTestId("create-credential").getByLabel("Name").fill("cron backend");
  await page.getByRole("button", { name: "Create credential" }).click();
  await expect(page.getByTestId("credential-secret")).toContainText("ras_");
  await page.reload();
  await expect(page.getByTestId("credentials")).toContainText("cron backend");
  await expect(page.getByTestId("new-credential")).toHaveCount(0);

  // End-users: pages through the URL; suspend from the user's page.
  for (let i = 0; i < 21; i++) await newEndUser(page.request, slug, `p${String(i).padStart(2, "0")}`);
  await page.goto(`/console/apps/${slug}/users`);
  await expect(page.getByTestId("end-users").locator("tbody tr")).toHaveCount(20);
  await page.getByRole("link", { name: "Next page" }).click();
  await expect(page).toHaveURL(/cursor=/);
  await expect(page.getByTestId("end-users").locator("tbody tr")).toHaveCount(1);
  await page.getByRole("link", { name: "First page" }).click();
  await expect(page.getByTestId("end-users").locator("tbody tr")).toHaveCount(20);
  await page.getByTestId("end-users").getByRole("link").first().click();
  await page.getByRole("button", { name: "Suspend" }).click();
  await expect(page.getByTestId("user-status")).toHaveText("suspended");
  await context.close();
});
