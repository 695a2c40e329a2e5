import { createAppInConsole, expect, hydrated, newAccount, signIn, test } from "./fixtures";

test("sign in, create an app, see it listed, sign out", async ({ page }, testInfo) => {
  const account = await newAccount(page);
  await signIn(page, account.username, account.password);
  await expect(page.getByTestId("account")).toHaveText(account.username);
  await expect(page.getByRole("heading", { name: "Your apps" })).toBeVisible();
  await expect(page.getByText("No apps yet")).toBeVisible();

  const slug = await createAppInConsole(page, "acme", "Acme Corporation");

  // The app's page: slug, status, roles and the JWKS URL.
  const facts = page.getByTestId("app-facts");
  await expect(facts).toContainText(slug);
  await expect(facts).toContainText("active");
  await expect(facts).toContainText(`/${slug}/v1/.well-known/jwks.json`);
  await expect(page.getByTestId("signing-alg")).toHaveText("RS256");
  const roles = page.getByTestId("roles");
  for (const role of ["owner", "admin", "member"]) {
    await expect(roles.getByRole("cell", { name: role, exact: false }).first()).toBeVisible();
  }

  // Back to the list: the app is there.
  await page.getByRole("link", { name: "Apps" }).click();
  await expect(page.getByTestId("apps")).toContainText("Acme Corporation");
  await expect(page.getByTestId("apps")).toContainText(slug);
  await page.screenshot({ path: testInfo.outputPath("console-apps.png"), fullPage: true });

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/console\/signin$/);
  // Signed out for real: the console sends us back to sign-in.
  await page.goto("/console");
  await expect(page).toHaveURL(/\/console\/signin$/);
});

test("wrong password is refused with a message", async ({ page }) => {
  const account = await newAccount(page);
  await signIn(page, account.username, "not-the-password");
  await expect(page.getByRole("alert")).toContainText("Invalid credentials");
  await expect(page).toHaveURL(/\/console\/signin/);
});

test("the create form shows the API's validation message", async ({ page }) => {
  const account = await newAccount(page);
  await signIn(page, account.username, account.password);
  await expect(page.getByRole("heading", { name: "Your apps" })).toBeVisible();
  await page.getByLabel("Slug").fill("console");
  await page.getByLabel("Display name").fill("Reserved");
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page.getByRole("alert").last()).toContainText("slug 'console' is reserved");
});

test("the console works without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const account = await newAccount(page);
  await page.goto("/console/signin");
  await page.getByLabel("Username or email").fill(account.username);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account")).toHaveText(account.username);
  // The signing algorithm travels with the plain form post too.
  await createAppInConsole(page, "nojs", "No Script", "ES256");
  await expect(page.getByTestId("signing-alg")).toHaveText("ES256");
  await context.close();
});

test("an app can sign its tokens with EdDSA", async ({ page }) => {
  const account = await newAccount(page);
  await signIn(page, account.username, account.password);
  await expect(page.getByRole("heading", { name: "Your apps" })).toBeVisible();
  const slug = await createAppInConsole(page, "edwards", "Edwards", "EdDSA");
  await expect(page.getByTestId("signing-alg")).toHaveText("EdDSA");
  // What the page says is what the app publishes.
  const jwks = await (await page.request.get(`/${slug}/v1/.well-known/jwks.json`)).json();
  expect(jwks.keys).toHaveLength(1);
  expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
});

test("a new developer creates an account from the console", async ({ page }) => {
  const suffix = Math.random().toString(36).slice(2, 10);
  await page.goto("/console/signin");
  await hydrated(page);
  await page.getByRole("link", { name: "Create one" }).click();
  await expect(page).toHaveURL(/\/console\/signup$/);
  await page.getByLabel("Email").fill(`new-${suffix}@example.com`);
  await page.getByLabel("Username").fill(`new-${suffix}`);
  await page.getByLabel("Password").fill("short");
  await page.getByLabel("Password").evaluate((el: HTMLInputElement) => el.removeAttribute("minlength"));
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByRole("alert")).toContainText("at least 8 characters");
  await page.getByLabel("Password").fill("CorrectHorseBatteryStaple");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("account")).toHaveText(`new-${suffix}`);
});
