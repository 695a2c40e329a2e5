import { bearer, expect, hydrated, newApp, newEndUser, ownerWithApp, PASSWORD, test } from "./fixtures";

// Seed 004's provider-first OAuth, in a real browser, with no mock: a second Rampart app on
// the same server is the upstream OpenID provider, added in the console's Sign-in providers
// tab; the end-user clicks "Continue with …" on the hosted sign-in page, signs in at the
// upstream app, and lands on the downstream app's account page, the provider linked.
test("a sign-in provider added in the console signs an end-user in through another Rampart app", async ({ page, browser, baseURL }, testInfo) => {
  const { slug, token } = await ownerWithApp(page);
  const upstream = await newApp(page.request, token);
  const callback = `${baseURL}/${slug}/v1/auth/oauth/upstream/callback`;
  const client = await page.request.post(`/api/v1/apps/${upstream}/oidc-clients`, {
    headers: bearer(token),
    data: { name: "Downstream", redirect_uris: [callback], scopes: ["openid", "profile", "email"], first_party: true },
  });
  expect(client.status()).toBe(201);
  const { client_id, client_secret } = await client.json();
  const user = await newEndUser(page.request, upstream, "fed");

  await page.goto(`/console/apps/${slug}`);
  await hydrated(page);
  await page.getByRole("link", { name: "Sign-in providers" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/providers$`));
  await expect(page.getByText("No sign-in providers yet.")).toBeVisible();
  const form = page.getByTestId("add-provider");
  await form.locator('select[name="kind"]').selectOption("oidc");
  await form.locator('input[name="name"]').fill("upstream");
  await form.locator('input[name="display_name"]').fill("Upstream ID");
  await form.locator('input[name="issuer"]').fill(`${baseURL}/${upstream}`);
  await form.locator('input[name="client_id"]').fill(client_id);
  await form.locator('input[name="client_secret"]').fill(client_secret);
  await form.getByRole("button", { name: "Add provider" }).click();
  const row = page.getByTestId("providers").getByTestId("provider-upstream");
  await expect(row).toContainText("Upstream ID");
  await expect(row.getByTestId("callback-url")).toHaveText(callback);
  await expect(row).toContainText("secret set");
  expect(await page.content()).not.toContain(client_secret);
  await page.screenshot({ path: testInfo.outputPath("console-providers.png"), fullPage: true });

  // The end-user, in a browser of their own.
  const context = await browser.newContext();
  const visitor = await context.newPage();
  await visitor.goto(`/${slug}/signin`);
  await visitor.getByRole("link", { name: "Continue with Upstream ID" }).click();
  await expect(visitor).toHaveURL(new RegExp(`/${upstream}/signin`));
  await visitor.getByLabel("Email or username").fill(user.username);
  await visitor.getByLabel("Password").fill(PASSWORD);
  await visitor.getByRole("button", { name: "Sign in" }).click();
  await expect(visitor).toHaveURL(new RegExp(`/${slug}/account`));
  await expect(visitor.getByText("Upstream ID").first()).toBeVisible();
  await visitor.screenshot({ path: testInfo.outputPath("federated-account.png"), fullPage: true });
  await context.close();

  // Disabled in the console, the button is gone.
  await row.getByRole("button", { name: "Disable" }).click();
  await expect(row).toContainText("disabled");
  const signin = await page.request.get(`/${slug}/signin`);
  expect(await signin.text()).not.toContain("Continue with Upstream ID");
});
