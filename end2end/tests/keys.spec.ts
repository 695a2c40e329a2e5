import { bearer, expect, hydrated, newEndUser, ownerWithApp, test } from "./fixtures";

function kidOf(jwt: string): string {
  return JSON.parse(Buffer.from(jwt.split(".")[0], "base64url").toString()).kid;
}

test("signing keys are rotated in the console, an old token keeps working until its key is revoked", async ({
  page,
}, testInfo) => {
  const { slug, token } = await ownerWithApp(page);
  const before = await newEndUser(page.request, slug, "rotated");
  const firstKid = kidOf(before.accessToken);

  await page.goto(`/console/apps/${slug}`);
  await hydrated(page);
  await page.getByRole("link", { name: "Signing keys" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/keys$`));
  const table = page.getByTestId("signing-keys");
  await expect(table.getByTestId(`key-${firstKid}`)).toContainText("active");

  // Rotate to ES256: the new key signs, the old one is "previous" and still verifies.
  const rotate = page.getByTestId("rotate-key");
  await rotate.getByLabel("Algorithm of the new key").selectOption("ES256");
  await rotate.getByRole("button", { name: "Rotate signing key" }).click();
  await expect(page.getByTestId("rotated")).toContainText("signs from now on");
  await expect(table.getByTestId(`key-${firstKid}`)).toContainText("previous");
  await expect(table.getByTestId(`key-${firstKid}`)).toContainText("verifies until");
  const jwks = await (await page.request.get(`/${slug}/v1/.well-known/jwks.json`)).json();
  expect(jwks.keys).toHaveLength(2);
  expect((await page.request.get(`/${slug}/v1/me`, { headers: bearer(before.accessToken) })).status()).toBe(200);
  const after = await newEndUser(page.request, slug, "fresh");
  expect(kidOf(after.accessToken)).not.toBe(firstKid);
  expect(JSON.parse(Buffer.from(after.accessToken.split(".")[0], "base64url").toString()).alg).toBe("ES256");
  await page.screenshot({ path: testInfo.outputPath("console-keys.png"), fullPage: true });

  // The schedule refuses a too-short period and says why, then keeps a good one.
  const schedule = page.getByTestId("key-schedule");
  await schedule.getByLabel("Rotate every (days)").fill("7");
  await schedule.getByRole("button", { name: "Save schedule" }).click();
  await expect(schedule.getByRole("alert")).toContainText("at least 30");
  await schedule.getByLabel("Rotate every (days)").fill("90");
  await schedule.getByRole("button", { name: "Save schedule" }).click();
  await expect(schedule.getByRole("alert")).toBeEmpty();
  const config = await (await page.request.get(`/api/v1/apps/${slug}/config`, { headers: bearer(token) })).json();
  expect(config.signing_key_rotation_days).toBe(90);

  // Emergency revocation of the previous key: its token is refused at once.
  const row = table.getByTestId(`key-${firstKid}`);
  await row.getByText("Revoke", { exact: true }).click();
  await row.getByRole("button", { name: "Revoke key" }).click();
  await expect(row).toContainText("revoked");
  expect((await page.request.get(`/${slug}/v1/me`, { headers: bearer(before.accessToken) })).status()).toBe(401);
  expect((await page.request.get(`/${slug}/v1/me`, { headers: bearer(after.accessToken) })).status()).toBe(200);
});
