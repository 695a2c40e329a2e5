import {
  accountToken,
  bearer,
  expect,
  hydrated,
  newAccount,
  newEndUser,
  ownerWithApp,
  test,
} from "./fixtures";
import type { APIRequestContext } from "@playwright/test";

/** A refused sign-in of the end-user: recorded as end_user.signin_failed, reason wrong_password. */
async function wrongPassword(request: APIRequestContext, slug: string, identifier: string) {
  const res = await request.post(`/${slug}/v1/auth/signin`, { data: { identifier, password: "not-the-password" } });
  expect(res.status()).toBe(401);
}

async function endUserId(request: APIRequestContext, slug: string, accessToken: string) {
  const me = await request.get(`/${slug}/v1/me`, { headers: bearer(accessToken) });
  expect(me.status()).toBe(200);
  return (await me.json()).id as string;
}

test("the activity page filters events, opens one, verifies the chain, and is linked from a user's page", async ({
  page,
}, testInfo) => {
  const { token, slug } = await ownerWithApp(page);
  const ada = await newEndUser(page.request, slug, "ada");
  const adaId = await endUserId(page.request, slug, ada.accessToken);
  await wrongPassword(page.request, slug, ada.username);
  const patch = await page.request.patch(`/api/v1/apps/${slug}/end-users/${adaId}`, {
    data: { role: "admin" },
    headers: bearer(token),
  });
  expect(patch.status()).toBe(200);

  await page.goto(`/console/apps/${slug}`);
  await hydrated(page);
  await page.getByRole("link", { name: "Activity" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/activity$`));

  // Newest first: the role change, the failed sign-in, the sign-up, then the app's creation.
  const events = page.getByTestId("events");
  const types = () => events.getByTestId("event").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-type")));
  await expect(events.locator('[data-type="app.created"]')).toHaveCount(1);
  expect((await types()).slice(0, 3)).toEqual(["end_user.role_changed", "end_user.signin_failed", "end_user.signed_up"]);

  // The chain, linked and recomputed, with when it was checked.
  const chain = page.getByTestId("chain");
  await expect(chain).toContainText("valid");
  await expect(chain).toContainText("hash chain verifies");
  await expect(page.getByTestId("chain-checked-at")).toHaveText(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  // Failures only: the refused sign-in, not the sign-up.
  const filters = page.getByTestId("activity-filters");
  await filters.getByLabel("Outcome").selectOption("failure");
  await filters.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(new RegExp(`/activity\\?outcome=failure$`));
  await expect(events.locator('[data-type="end_user.signed_up"]')).toHaveCount(0);
  await expect(events.getByTestId("event")).toHaveCount(1);
  const failed = events.locator('[data-type="end_user.signin_failed"]');
  await expect(failed).toContainText("failure");

  // Opened: every field and the details.
  await expect(failed.getByTestId("event-details")).toBeHidden();
  await failed.locator("summary").click();
  await expect(failed.getByTestId("event-details")).toContainText('"reason": "wrong_password"');
  await expect(failed).toContainText(adaId);
  await page.screenshot({ path: testInfo.outputPath("console-activity.png"), fullPage: true });

  // A type on top of the outcome, typed as a prefix.
  await filters.getByLabel("Type").fill("end_user.*");
  await filters.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/type=end_user\.\*/);
  await expect(page).toHaveURL(/outcome=failure/);
  await expect(events.getByTestId("event")).toHaveCount(1);

  // A bad value: the engine's message beside the form, which keeps what was typed.
  await filters.getByLabel("IP address").fill("not-an-ip");
  await filters.getByRole("button", { name: "Apply filters" }).click();
  await expect(page.getByRole("alert")).toContainText("ip must be an IP address");
  await expect(filters.getByLabel("IP address")).toHaveValue("not-an-ip");
  await expect(filters.getByLabel("Type")).toHaveValue("end_user.*");

  // From the user's page to their events: everything done to or by them, nothing else.
  await page.goto(`/console/apps/${slug}/users/${adaId}`);
  await hydrated(page);
  await page.getByTestId("user-activity").click();
  await expect(page).toHaveURL(new RegExp(`/activity\\?subject=${adaId}$`));
  await expect(filters.getByLabel("Subject ID")).toHaveValue(adaId);
  await expect(events.locator('[data-type="end_user.role_changed"]')).toHaveCount(1);
  expect(await types()).toEqual(["end_user.role_changed", "end_user.signin_failed", "end_user.signed_up"]);

  // Refresh brings in what happened since, and checks the chain again, in place: the page
  // is not loaded anew (what the window holds survives).
  const before = await page.getByTestId("chain").textContent();
  await wrongPassword(page.request, slug, ada.username);
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  await page.getByRole("button", { name: "Refresh" }).click();
  await expect(events.locator('[data-type="end_user.signin_failed"]')).toHaveCount(2);
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  await expect(page.getByTestId("chain")).not.toHaveText(before ?? "");
  await expect(page.getByTestId("chain")).toContainText("valid");
});

test("the activity page works without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const account = await newAccount(page);
  const token = await accountToken(page.request, account.username, account.password);
  const slug = `nojs-${Math.random().toString(36).slice(2, 8)}`;
  expect(
    (await page.request.post("/api/v1/apps", { data: { slug, displayName: "No JS" }, headers: bearer(token) })).status(),
  ).toBe(201);
  const bob = await newEndUser(page.request, slug, "bob");
  await wrongPassword(page.request, slug, bob.username);
  await page.goto("/console/signin");
  await page.getByLabel("Username or email").fill(account.username);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account")).toHaveText(account.username);

  // Two events a page: the filters travel in the query string, and with them the paging.
  await page.goto(`/console/apps/${slug}/activity?limit=2`);
  await expect(page.getByTestId("chain")).toContainText("valid");
  const filters = page.getByTestId("activity-filters");
  const events = page.getByTestId("events");
  await filters.getByLabel("Type").fill("end_user.*");
  await filters.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/type=end_user\.\*/);
  await expect(page).toHaveURL(/limit=2/);
  await expect(events.getByTestId("event")).toHaveCount(2);
  await expect(events.locator('[data-type="end_user.signin_failed"]')).toHaveCount(1);
  await expect(events.locator('[data-type="end_user.signed_up"]')).toHaveCount(1);
  await expect(page.getByRole("link", { name: "Older events" })).toHaveCount(1);

  // Each row opens by itself (<details>).
  const failed = events.locator('[data-type="end_user.signin_failed"]');
  await failed.locator("summary").click();
  await expect(failed.getByTestId("event-details")).toContainText('"reason": "wrong_password"');

  // The page after: nothing older matches.
  await page.getByRole("link", { name: "Older events" }).click();
  await expect(page).toHaveURL(/cursor=/);
  await expect(page.getByTestId("no-events")).toHaveText("No older events.");
  await page.getByRole("link", { name: "Newest events" }).click();
  await expect(events.getByTestId("event")).toHaveCount(2);

  // Refresh is a plain GET of the same view.
  await wrongPassword(page.request, slug, bob.username);
  await page.getByRole("button", { name: "Refresh" }).click();
  await expect(filters.getByLabel("Type")).toHaveValue("end_user.*");
  await expect(events.locator('[data-type="end_user.signin_failed"]')).toHaveCount(2);

  // A time window before any event: an empty state saying so.
  await filters.getByLabel("Until (UTC)").fill("2000-01-01T00:00");
  await filters.getByRole("button", { name: "Apply filters" }).click();
  await expect(page).toHaveURL(/to=2000-01-01T00%3A00/);
  await expect(page.getByTestId("no-events")).toHaveText("No events match these filters.");
  await context.close();
});
