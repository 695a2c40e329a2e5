import { bearer, expect, hydrated, newEndUser, ownerWithApp, test } from "./fixtures";

/** base64url of bytes, as PKCE wants it. */
const B64URL = `(bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "")`;

test("an OIDC client registered in the console signs an end-user in with a plain PKCE flow", async ({ page, baseURL }, testInfo) => {
  const { slug, token } = await ownerWithApp(page);
  const user = await newEndUser(page.request, slug, "reader");
  const origin = new URL(baseURL ?? "http://127.0.0.1").origin;
  // The client comes back to a page of this server, so the browser can read the code.
  const redirectUri = `${origin}/${slug}/signed-out`;

  await page.goto(`/console/apps/${slug}`);
  await hydrated(page);
  await page.getByRole("link", { name: "OIDC clients" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/oidc-clients$`));
  await expect(page.getByText("No OIDC clients yet.")).toBeVisible();

  // A confidential client first: its secret shown once.
  const form = page.getByTestId("create-oidc-client");
  await form.getByLabel("Name").fill("Backend");
  await form.locator('textarea[name="redirect_uris"]').fill("https://app.example.com/callback");
  await form.getByRole("button", { name: "Register client" }).click();
  const shown = page.getByTestId("new-oidc-client");
  await expect(shown).toContainText("shown this once");
  const secret = ((await shown.getByTestId("oidc-client-secret").textContent()) ?? "").trim();
  expect(secret).toMatch(/^ocs_/);
  await page.reload();
  await hydrated(page);
  expect(await page.content()).not.toContain(secret);

  // A public, first-party client for the browser flow.
  await form.getByLabel("Name").fill("Reader SPA");
  await form.locator('select[name="client_type"]').selectOption("public");
  await form.locator('textarea[name="redirect_uris"]').fill(redirectUri);
  await form.locator('input[name="first_party"]').check();
  await form.getByRole("button", { name: "Register client" }).click();
  await expect(page.getByTestId("new-oidc-client")).toBeVisible();
  await expect(page.getByTestId("oidc-client-secret")).toHaveCount(0);
  const clientId = ((await page.getByTestId("oidc-client-id").textContent()) ?? "").trim();
  expect(clientId).toMatch(/^oc_/);
  await expect(page.getByTestId(`oidc-client-${clientId}`)).toContainText("public");
  await page.screenshot({ path: testInfo.outputPath("console-oidc-clients.png"), fullPage: true });

  // The flow, as a single-page app does it: PKCE made in the browser, the sign-in page, the
  // code on the redirect, the exchange and userinfo by fetch.
  const pkce = await page.evaluate(async (b64) => {
    const encode = eval(b64);
    const verifier = encode(crypto.getRandomValues(new Uint8Array(32)));
    const challenge = encode(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    return { verifier, challenge };
  }, B64URL);
  const state = "st-" + Math.random().toString(36).slice(2);
  const authorize = new URL(`${origin}/${slug}/oauth2/authorize`);
  for (const [k, v] of Object.entries({
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: "openid profile email",
    state,
    nonce: "n-" + state,
    code_challenge: pkce.challenge,
    code_challenge_method: "S256",
  })) {
    authorize.searchParams.set(k, v);
  }
  await page.goto(authorize.toString());
  await expect(page).toHaveURL(new RegExp(`/${slug}/signin`));
  await page.getByLabel("Email or username").fill(user.username);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`/${slug}/signed-out\\?code=`));
  const back = new URL(page.url());
  expect(back.searchParams.get("state")).toBe(state);
  expect(back.searchParams.get("iss")).toBe(`${origin}/${slug}`);
  const code = back.searchParams.get("code");

  // The client's own code runs on a page of its origin: the hosted pages' CSP allows no fetch.
  await page.goto("/health");
  const answer = await page.evaluate(
    async ({ slug, code, verifier, clientId, redirectUri }) => {
      const body = new URLSearchParams({ grant_type: "authorization_code", code, code_verifier: verifier, client_id: clientId, redirect_uri: redirectUri });
      const tokens = await (await fetch(`/${slug}/oauth2/token`, { method: "POST", body })).json();
      const info = await (await fetch(`/${slug}/oauth2/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json();
      const again = await fetch(`/${slug}/oauth2/token`, { method: "POST", body });
      return { tokens, info, againStatus: again.status, againError: (await again.json()).error };
    },
    { slug, code: code ?? "", verifier: pkce.verifier, clientId, redirectUri },
  );
  expect(answer.tokens.token_type).toBe("Bearer");
  expect(answer.tokens.id_token).toMatch(/^ey/);
  expect(answer.info.email).toBe(user.email);
  expect(answer.info.preferred_username).toBe(user.username);
  expect([answer.againStatus, answer.againError]).toEqual([400, "invalid_grant"]);

  // Deleted in the console: its sign-in ends.
  await page.goto(`/console/apps/${slug}/oidc-clients`);
  await hydrated(page);
  const row = page.getByTestId(`oidc-client-${clientId}`);
  await row.getByText("Delete", { exact: true }).click();
  await row.getByRole("button", { name: "Delete client" }).click();
  await expect(page.getByTestId(`oidc-client-${clientId}`)).toHaveCount(0);
  const info = await page.request.get(`/${slug}/oauth2/userinfo`, { headers: bearer(answer.tokens.access_token) });
  expect(info.status()).toBe(401);
  const list = await page.request.get(`/api/v1/apps/${slug}/oidc-clients`, { headers: bearer(token) });
  expect((await list.json()).clients).toHaveLength(1);
});
