import * as http from "node:http";
import { AddressInfo } from "node:net";
import { expect, hydrated, newEndUser, ownerWithApp, test } from "./fixtures";

test("a webhook added in the console receives signed events, and its delivery log shows them", async ({ page }, testInfo) => {
  // A receiver on loopback that records what it gets.
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  try {
    const { slug } = await ownerWithApp(page);
    await page.goto(`/console/apps/${slug}`);
    await hydrated(page);
    await page.getByRole("link", { name: "Webhooks" }).click();
    await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/webhooks$`));
    await expect(page.getByText("No webhooks yet.")).toBeVisible();

    // An internal address the server may not reach is refused with the reason.
    const form = page.getByTestId("create-webhook");
    await form.getByLabel("Endpoint URL").fill("http://169.254.169.254/latest");
    await form.getByRole("button", { name: "Add endpoint" }).click();
    await expect(form.getByRole("alert")).toContainText("must not point inside");

    await form.getByLabel("Endpoint URL").fill(url);
    await form.getByLabel("Event types").fill("end_user.signed_up");
    await form.getByLabel("Description").fill("CRM sync");
    await form.getByRole("button", { name: "Add endpoint" }).click();
    const shown = page.getByTestId("new-webhook-secret");
    await expect(shown).toBeVisible();
    const secret = ((await shown.getByTestId("webhook-secret").textContent()) ?? "").trim();
    expect(secret).toMatch(/^whsec_/);
    await expect(page.getByTestId("webhooks")).toContainText("end_user.signed_up");
    await page.screenshot({ path: testInfo.outputPath("console-webhooks.png"), fullPage: true });

    // An end-user signs up: the receiver gets the signed event.
    await newEndUser(page.request, slug, "hooked");
    await expect.poll(() => received.length, { timeout: 15_000 }).toBeGreaterThan(0);
    const { headers, body } = received[0];
    expect(headers["webhook-id"]).toMatch(/^msg_/);
    expect(JSON.parse(body).type).toBe("end_user.signed_up");
    const crypto = await import("node:crypto");
    const key = Buffer.from(secret.slice("whsec_".length), "base64");
    const expected = crypto
      .createHmac("sha256", key)
      .update(`${headers["webhook-id"]}.${headers["webhook-timestamp"]}.${body}`)
      .digest("base64");
    expect(String(headers["webhook-signature"]).split(" ")).toContain(`v1,${expected}`);

    // The endpoint's page lists the delivery, delivered with the receiver's answer.
    await page.getByRole("link", { name: url }).click();
    await hydrated(page);
    const log = page.getByTestId("deliveries");
    await expect(log).toContainText("end_user.signed_up");
    await expect(log).toContainText("delivered");
    await expect(log).toContainText("HTTP 204");
    await page.getByRole("button", { name: "Redeliver" }).first().click();
    await expect.poll(() => received.length, { timeout: 15_000 }).toBeGreaterThan(1);
    expect(received[1].headers["webhook-id"]).toBe(headers["webhook-id"]);
  } finally {
    receiver.close();
  }
});
