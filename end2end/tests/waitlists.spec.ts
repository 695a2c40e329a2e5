import { readFile } from "node:fs/promises";

import { bearer, expect, hydrated, newEndUser, ownerWithApp, test } from "./fixtures";

test("a waitlist is opened, joined through the API, let in and exported from the console", async ({ page }, testInfo) => {
  const { token, slug } = await ownerWithApp(page);
  await page.goto(`/console/apps/${slug}`);
  await hydrated(page);
  await page.getByRole("link", { name: "Waitlists" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/waitlists$`));

  // Open a waitlist; a bad name is refused with the server's message.
  const add = page.getByTestId("add-waitlist");
  await add.getByLabel("New waitlist").fill("beta");
  await add.getByRole("button", { name: "Open waitlist" }).click();
  const row = page.getByTestId("waitlists").locator('tr[data-feature="beta"]');
  await expect(row.getByTestId("waiting")).toHaveText("0");

  // Three end-users join through the consumer API (seed 004), one of them twice.
  const users = [];
  for (const name of ["ann", "ben", "cat"]) {
    const user = await newEndUser(page.request, slug, name);
    const res = await page.request.put(`/${slug}/v1/me/waitlists/beta`, { headers: bearer(user.accessToken) });
    expect(res.status()).toBe(200);
    users.push(user);
  }
  const again = await page.request.put(`/${slug}/v1/me/waitlists/beta`, { headers: bearer(users[0].accessToken) });
  expect((await again.json()).joined).toBe(true);

  await page.reload();
  await hydrated(page);
  await expect(row.getByTestId("waiting")).toHaveText("3");
  await row.getByRole("link", { name: "beta" }).click();
  const entries = page.getByTestId("waitlist-entries");
  await expect(entries.getByTestId("entry")).toHaveCount(3);
  await expect(entries.getByTestId("entry").first()).toHaveAttribute("data-username", users[0].username);

  // Let the first one in by hand, then the next one by count.
  await entries.getByRole("button", { name: `Let ${users[0].username} in` }).click();
  await expect(entries.getByTestId("admitted-notice")).toContainText("Let 1 person in");
  await expect(entries.locator(`tr[data-username="${users[0].username}"]`)).toHaveAttribute("data-status", "admitted");
  const next = entries.getByTestId("admit-next");
  await next.getByLabel("Let in the next").fill("1");
  await next.getByRole("button", { name: "Let them in" }).click();
  await expect(entries.locator(`tr[data-username="${users[1].username}"]`)).toHaveAttribute("data-status", "admitted");
  await expect(row.getByTestId("admitted")).toHaveText("2");
  await expect(row.getByTestId("waiting")).toHaveText("1");

  // The end-user sees it, and the mail went out.
  const mine = await page.request.get(`/${slug}/v1/me/waitlists/beta`, { headers: bearer(users[1].accessToken) });
  expect((await mine.json()).status).toBe("admitted");
  const mail = await page.request.get(`/api/v1/apps/${slug}/mail`, { headers: bearer(token) });
  const subjects = (await mail.json()).messages.map((m: { subject: string }) => m.subject);
  expect(subjects.filter((s: string) => s.includes("beta"))).toHaveLength(2);

  // Only the waiting ones.
  await entries.getByRole("link", { name: "Waiting" }).click();
  await expect(page).toHaveURL(/status=waiting/);
  await expect(entries.getByTestId("entry")).toHaveCount(1);

  // The CSV export downloads every entry.
  await entries.getByRole("button", { name: "Export CSV" }).click();
  const download = page.waitForEvent("download");
  await entries.getByTestId("download-csv").click();
  const file = await (await download).path();
  const csv = await readFile(file!, "utf8");
  expect(csv.trim().split("\n")).toHaveLength(4);
  expect(csv).toContain(users[2].email);
  await page.screenshot({ path: testInfo.outputPath("console-waitlists.png"), fullPage: true });
});
