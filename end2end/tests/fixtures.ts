import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";

/** Every test fails if the browser saw a 5xx: refusals are 4xx, never server errors. */
export const test = base.extend<{ serverErrors: string[] }>({
  serverErrors: [
    async ({ context }, use) => {
      const seen: string[] = [];
      context.on("response", (r) => {
        if (r.status() >= 500) seen.push(`${r.status()} ${r.request().method()} ${r.url()}`);
      });
      await use(seen);
      expect(seen, "responses with a 5xx status").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export const PASSWORD = "CorrectHorseBatteryStaple";

export function suffix() {
  return Math.random().toString(36).slice(2, 10);
}

/** A fresh account through the platform API (seed 000, step 1). */
export async function newAccount(page: Page) {
  const s = suffix();
  const account = { username: `dev-${s}`, email: `dev-${s}@example.com`, password: PASSWORD };
  const res = await page.request.post("/api/v1/auth/signup", { data: account });
  expect(res.status()).toBe(201);
  return account;
}

/** The account's bearer for the management API, from a sign-in through the API. */
export async function accountToken(request: APIRequestContext, identifier: string, password: string) {
  const res = await request.post("/api/v1/auth/signin", { data: { identifier, password } });
  expect(res.status()).toBe(200);
  return (await res.json()).access_token as string;
}

export function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}

/** A new app owned by the account behind `token`; answers its slug. */
export async function newApp(request: APIRequestContext, token: string) {
  const slug = `acme-${suffix()}`;
  const res = await request.post("/api/v1/apps", { data: { slug, displayName: "Acme Corporation" }, headers: bearer(token) });
  expect(res.status()).toBe(201);
  return slug;
}

/** An end-user of the app, signed up through the app's own API (seed 001). */
export async function newEndUser(request: APIRequestContext, slug: string, name = "user") {
  const s = suffix();
  const user = { email: `${name}-${s}@example.com`, username: `${name}-${s}`, password: PASSWORD, display_name: `${name} ${s}` };
  const res = await request.post(`/${slug}/v1/auth/signup`, { data: user });
  expect(res.status()).toBe(201);
  const tokens = await res.json();
  return { ...user, accessToken: tokens.access_token as string };
}

/** Waits until the page is hydrated, so clicks go through the client-side router and
 *  ActionForms: the app marks <body> then (a busy machine can take seconds). */
export async function hydrated(page: Page) {
  await page.locator("body[data-hydrated]").waitFor({ state: "attached", timeout: 30_000 });
}

export async function signIn(page: Page, identifier: string, password: string) {
  await page.goto("/console");
  await expect(page).toHaveURL(/\/console\/signin$/);
  await hydrated(page);
  await page.getByLabel("Username or email").fill(identifier);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Creates an app with the console's form (the signing algorithm left at its default unless
 *  given) and waits for the app's page; answers the slug. */
export async function createAppInConsole(page: Page, prefix: string, displayName: string, alg?: string) {
  const slug = `${prefix}-${suffix()}`;
  await page.getByLabel("Slug").fill(slug);
  await page.getByLabel("Display name").fill(displayName);
  if (alg) await page.getByLabel("Token signing").selectOption(alg);
  await page.getByRole("button", { name: "Create app" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}$`));
  return slug;
}

/** An account with an app, signed in to the console: what every management test starts from. */
export async function ownerWithApp(page: Page) {
  const account = await newAccount(page);
  const token = await accountToken(page.request, account.username, account.password);
  const slug = await newApp(page.request, token);
  await signIn(page, account.username, account.password);
  await expect(page.getByTestId("account")).toHaveText(account.username);
  return { account, token, slug };
}
