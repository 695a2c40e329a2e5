import { bearer, expect, hydrated, newEndUser, ownerWithApp, test } from "./fixtures";

test("a license issued in the console is activated by a backend, shown with its device, extended, then revoked", async ({
  page,
}, testInfo) => {
  const { slug, token } = await ownerWithApp(page);
  const user = await newEndUser(page.request, slug, "buyer");
  const me = await page.request.get(`/${slug}/v1/me`, { headers: bearer(user.accessToken) });
  const userId: string = (await me.json()).id;

  await page.goto(`/console/apps/${slug}`);
  await hydrated(page);
  await page.getByRole("link", { name: "Licenses" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/licenses$`));
  await expect(page.getByText("No licenses yet.")).toBeVisible();

  // Issue: the key once, in its typeable shape, with a copy button.
  const form = page.getByTestId("issue-license");
  await form.getByLabel("Product").fill("desk_pro");
  await form.getByLabel("End-user id").fill(userId);
  await form.getByLabel("Max activations").fill("2");
  await form.getByRole("button", { name: "Issue license" }).click();
  const shown = page.getByTestId("new-license");
  await expect(shown).toContainText("won't be shown again");
  await expect(shown.getByRole("button", { name: "Copy the license key" })).toBeVisible();
  const key = ((await shown.getByTestId("license-key").textContent()) ?? "").trim();
  expect(key).toMatch(/^([0-9A-HJKMNP-TV-Z]{5}-){4}[0-9A-HJKMNP-TV-Z]{5}$/);
  const list = page.getByTestId("licenses");
  const row = list.getByTestId(`license-${key.slice(0, 5)}`);
  await expect(row).toContainText("desk_pro");
  await expect(row).toContainText("0 / 2");
  await expect(row).toContainText("active");
  await expect(list).not.toContainText(key);
  await page.screenshot({ path: testInfo.outputPath("console-licenses.png"), fullPage: true });

  // A backend activates it on a device with the app's credentials (seed 002).
  const created = await page.request.post(`/api/v1/apps/${slug}/credentials`, { data: {}, headers: bearer(token) });
  const { app_id, app_secret } = await created.json();
  const device = { app_id, app_secret, license_key: key, device_fingerprint: "fp-laptop-1", device_name: "Ada's laptop" };
  const activated = await page.request.post(`/${slug}/v1/licenses/activate`, { data: device });
  expect(activated.status()).toBe(200);
  expect((await activated.json()).license_token).toMatch(/^ey/);

  // Shown once: a reload no longer shows the key; the license shows its device.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("new-license")).toHaveCount(0);
  expect(await page.content()).not.toContain(key);
  await expect(row).toContainText("1 / 2");
  await row.getByRole("link").click();
  await expect(page).toHaveURL(/\/licenses\/[0-9a-f-]{36}$/);
  await hydrated(page);
  await expect(page.getByTestId("license-status")).toHaveText("active");
  await expect(page.getByTestId("activations")).toContainText("fp-laptop-1");
  await expect(page.getByTestId("activations")).toContainText("Ada's laptop");
  await page.screenshot({ path: testInfo.outputPath("console-license.png"), fullPage: true });

  // Extend, then revoke: the backend's verify says so at once.
  await page.getByTestId("extend-license").getByLabel("New expiry").fill("2099-12-31");
  await page.getByRole("button", { name: "Extend" }).click();
  await expect(page.getByTestId("license-expires")).toHaveText("2099-12-31T23:59:59Z");
  await page.getByRole("button", { name: "Revoke license" }).click();
  await expect(page.getByTestId("license-status")).toHaveText("revoked");
  await expect(page.getByRole("button", { name: "Revoke license" })).toHaveCount(0);
  const verified = await page.request.post(`/${slug}/v1/licenses/verify`, { data: device });
  expect(verified.status()).toBe(200);
  const answer = await verified.json();
  expect(answer.valid).toBe(false);
  expect(answer.status).toBe("revoked");
});

test("the console refuses a bad license and says why", async ({ page }) => {
  const { slug } = await ownerWithApp(page);
  await page.goto(`/console/apps/${slug}/licenses`);
  await hydrated(page);
  const form = page.getByTestId("issue-license");
  await form.getByLabel("Product").fill("pro");
  await form.getByLabel("End-user id").fill("not-a-user");
  await form.getByRole("button", { name: "Issue license" }).click();
  await expect(form.getByRole("alert")).toContainText("user_id must be a UUID");
  await expect(page.getByTestId("new-license")).toHaveCount(0);
});
