import {
  bearer,
  createAppInConsole,
  expect,
  hydrated,
  newAccount,
  ownerWithApp,
  PASSWORD,
  signIn,
  suffix,
  test,
} from "./fixtures";

// The server of this run has no SMTP (playwright.config.ts): every message is kept in the dev
// outbox, which the console's Mail tab shows with its links.
test("an invite goes to the dev outbox, its link is followed from the Mail tab, and it ends accepted", async ({
  page,
}, testInfo) => {
  const account = await newAccount(page);
  await signIn(page, account.username, account.password);
  await expect(page.getByTestId("account")).toHaveText(account.username);
  await hydrated(page);
  const slug = await createAppInConsole(page, "mailroom", "Mailroom");

  // Invite from the Invites tab: roles are the app's, never owner; 72 hours unless changed.
  await page.getByRole("link", { name: "Invites" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/invites$`));
  await expect(page.getByTestId("no-invites")).toBeVisible();
  const form = page.getByTestId("create-invite");
  await expect(form.getByLabel("Role").locator("option")).toHaveText(["admin", "member"]);
  await expect(form.getByLabel("Role")).toHaveValue("member");
  await expect(form.getByLabel("Expires in (hours)")).toHaveValue("72");
  const email = `ada-${suffix()}@example.com`;
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Name").fill("Ada Lovelace");
  await form.getByLabel("Role").selectOption("admin");
  await form.getByRole("button", { name: "Send invite" }).click();
  await expect(page.getByTestId("invite-sent")).toContainText(`Invite sent to ${email}`);
  const invite = page.getByTestId("invites").locator(`[data-email="${email}"]`);
  await expect(invite).toHaveAttribute("data-status", "pending");
  await expect(invite).toContainText("Ada Lovelace");
  await expect(invite).toContainText("admin");
  await expect(invite).toContainText(/until \d{4}-/);
  await expect(invite.getByRole("button", { name: `Revoke the invite of ${email}` })).toBeVisible();
  // The form is ready for the next one.
  await expect(form.getByLabel("Email")).toHaveValue("");

  // The Mail tab: development mode said at the top, the invite kept with its body.
  await page.getByRole("link", { name: "Read it in Mail" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/mail$`));
  await expect(page.getByTestId("dev-outbox")).toContainText("Development mode: no SMTP server is configured");
  await expect(page.getByTestId("dev-outbox")).toContainText("erased");
  const message = page.getByTestId("mail").filter({ hasText: email });
  // Queued, then kept by the worker a moment later.
  await expect(async () => {
    await page.getByRole("button", { name: "Refresh" }).click();
    await expect(message).toHaveAttribute("data-status", "outbox", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(message).toHaveAttribute("data-kind", "invite");
  await expect(message).toContainText("You are invited to Mailroom");

  // Opened: the text part, and the HTML part in a sandboxed frame that runs no script.
  await expect(message.getByTestId("mail-text")).toBeHidden();
  await message.locator("summary").click();
  const text = message.getByTestId("mail-text");
  await expect(text).toContainText("Hello Ada Lovelace,");
  await expect(text).toContainText(`/${slug}/accept-invite?code=inv_`);
  const frame = message.getByTestId("mail-html");
  const sandbox = await frame.getAttribute("sandbox");
  expect(sandbox?.split(/\s+/).sort()).toEqual(["allow-popups", "allow-popups-to-escape-sandbox"]);
  const accept = message.frameLocator("iframe").getByRole("link", { name: "Accept the invite" });
  const href = (await accept.getAttribute("href")) ?? "";
  expect(href).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/${slug}/accept-invite\\?code=inv_[A-Za-z0-9_-]+$`));
  expect(await text.textContent()).toContain(href);
  // In view: Chromium does not paint an offscreen frame of another origin (this one's is
  // opaque), and the full-page screenshot would show it blank.
  await frame.scrollIntoViewIfNeeded();
  await expect(accept).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("console-mail.png"), fullPage: true });

  // The link opens in a new tab; choosing a password there accepts the invite.
  const opened = page.waitForEvent("popup");
  await accept.click();
  const hosted = await opened;
  await expect(hosted).toHaveURL(href);
  await expect(hosted.getByRole("heading", { name: "Accept your invite" })).toBeVisible();
  await expect(hosted.getByText(email)).toBeVisible();
  await hosted.getByLabel("New password").fill(PASSWORD);
  await hosted.getByLabel("Confirm the password").fill(PASSWORD);
  await hosted.getByRole("button", { name: "Accept the invite" }).click();
  // Accepted and signed in: the hosted account page greets the new user.
  await expect(hosted.getByRole("heading", { name: "Your account" })).toBeVisible();
  await expect(hosted.getByText("Welcome!")).toBeVisible();
  await hosted.close();

  // Back in the console: accepted, with the end-user it made, and nothing left to revoke.
  await page.getByRole("link", { name: "Invites" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/invites$`));
  await expect(invite).toHaveAttribute("data-status", "accepted");
  await expect(invite).toContainText(/accepted \d{4}-/);
  await expect(invite.getByRole("button", { name: /Revoke/ })).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath("console-invites.png"), fullPage: true });
  await invite.getByRole("link", { name: "End-user" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/users/[0-9a-f-]{36}$`));
  await expect(page.getByText(email).first()).toBeVisible();
});

test("a pending invite is revoked from the Invites tab, and its link stops working", async ({ page }) => {
  const account = await newAccount(page);
  await signIn(page, account.username, account.password);
  await expect(page.getByTestId("account")).toHaveText(account.username);
  await hydrated(page);
  const slug = await createAppInConsole(page, "revoker", "Revoker");
  await page.getByRole("link", { name: "Invites" }).click();
  const form = page.getByTestId("create-invite");

  // A refusal is shown beside the form, which keeps what was typed.
  await form.getByLabel("Email").fill(`bob-${suffix()}@example.com`);
  await form.getByLabel("Expires in (hours)").fill("9999");
  await form.getByRole("button", { name: "Send invite" }).click();
  await expect(form.getByRole("alert")).toContainText("expiresInHours must be between 1 and 720");
  await expect(page.getByTestId("no-invites")).toBeVisible();

  await form.getByLabel("Expires in (hours)").fill("1");
  await form.getByRole("button", { name: "Send invite" }).click();
  const invite = page.getByTestId("invite");
  await expect(invite).toHaveAttribute("data-status", "pending");
  await invite.getByRole("button", { name: /Revoke the invite of/ }).click();
  await expect(invite).toHaveAttribute("data-status", "revoked");
  await expect(invite).toContainText(/revoked \d{4}-/);

  // Its mail is still in the outbox, but the link it carries no longer works.
  await page.getByRole("link", { name: "Mail", exact: true }).click();
  const message = page.getByTestId("mail").first();
  await message.locator("summary").click();
  const text = (await message.getByTestId("mail-text").textContent()) ?? "";
  const link = text.match(/https?:\/\/\S+\/accept-invite\?code=\S+/)?.[0];
  expect(link, text).toBeTruthy();
  await page.goto(link!);
  await expect(page.getByRole("heading", { name: "This invite no longer works" })).toBeVisible();
});

test("invites and mail work without JavaScript", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const account = await newAccount(page);
  await page.goto("/console/signin");
  await page.getByLabel("Username or email").fill(account.username);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account")).toHaveText(account.username);
  const slug = await createAppInConsole(page, "nojs-mail", "No Script Mail");

  // A plain form post, answered by the page again with the list.
  await page.goto(`/console/apps/${slug}/invites`);
  const email = `cy-${suffix()}@example.com`;
  const form = page.getByTestId("create-invite");
  await form.getByLabel("Email").fill(email);
  await form.getByRole("button", { name: "Send invite" }).click();
  const invite = page.getByTestId("invites").locator(`[data-email="${email}"]`);
  await expect(invite).toHaveAttribute("data-status", "pending");

  // Each message opens by itself (<details>); Refresh is a plain GET of the page.
  await page.getByRole("link", { name: "Mail", exact: true }).click();
  await expect(page.getByTestId("dev-outbox")).toBeVisible();
  await page.getByRole("button", { name: "Refresh" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/mail\\??$`));
  const message = page.getByTestId("mail").filter({ hasText: email });
  await message.locator("summary").click();
  await expect(message.getByTestId("mail-text")).toContainText(`/${slug}/accept-invite?code=inv_`);

  await page.goto(`/console/apps/${slug}/invites`);
  await invite.getByRole("button", { name: `Revoke the invite of ${email}` }).click();
  await expect(invite).toHaveAttribute("data-status", "revoked");
  await context.close();
});

test("the Mail and links settings are saved from the config tab, and the sender is the app's", async ({ page }) => {
  const { token, slug } = await ownerWithApp(page);
  await page.goto(`/console/apps/${slug}/config`);
  await hydrated(page);
  const group = page.getByTestId("config-mail");
  await expect(group.getByLabel("Magic link lifetime (seconds)")).toHaveValue("900");
  await group.getByLabel("Sender name").fill("Acme Accounts");
  await group.getByLabel("Sender address").fill("accounts@acme.example");
  await group.getByLabel("Magic links").check();
  await group.getByLabel("Magic link lifetime (seconds)").fill("600");
  const form = page.getByTestId("config-form");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(form.getByRole("status")).toHaveText("Saved");
  const config = async () =>
    (await page.request.get(`/api/v1/apps/${slug}/config`, { headers: bearer(token) })).json();
  expect(await config()).toMatchObject({
    mail_from_name: "Acme Accounts",
    mail_from_address: "accounts@acme.example",
    magic_link_enabled: true,
    verify_email_on_signup: false,
    check_email_enabled: false,
    magic_link_ttl_seconds: 600,
  });

  // An address the engine refuses: its message, the field marked, nothing saved.
  await group.getByLabel("Sender address").fill("accounts at acme");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(form.getByRole("alert")).toContainText("mail_from_address must be an email address");
  await expect(group.getByLabel("Sender address")).toHaveAttribute("aria-invalid", "true");
  expect((await config()).mail_from_address).toBe("accounts@acme.example");

  await page.reload();
  await expect(group.getByLabel("Magic links")).toBeChecked();
  await expect(group.getByLabel("Sender address")).toHaveValue("accounts@acme.example");

  // The next message goes out from the app's sender.
  const invited = await page.request.post(`/api/v1/apps/${slug}/end-users/invites`, {
    data: { email: `dee-${suffix()}@example.com` },
    headers: bearer(token),
  });
  expect(invited.status()).toBe(201);
  await page.goto(`/console/apps/${slug}/mail`);
  const message = page.getByTestId("mail").first();
  await message.locator("summary").click();
  await expect(message).toContainText("Acme Accounts <accounts@acme.example>");
});

test("an app's own wording of a message is edited, previewed, refused when wrong and reset", async ({ page }) => {
  const { token, slug } = await ownerWithApp(page);
  await page.goto(`/console/apps/${slug}/mail`);
  await hydrated(page);
  await page.getByRole("link", { name: "Message templates" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/mail/templates$`));
  await page.getByTestId("template-kinds").getByRole("link", { name: "otp", exact: true }).click();
  const editor = page.getByTestId("template-editor");
  await expect(editor).toHaveAttribute("data-kind", "otp");
  await expect(editor).toContainText("Rampart's wording is used");
  await expect(editor).toContainText("{{code}}");

  // A template without the code the message must carry is refused, and nothing is saved.
  await editor.getByLabel("Subject").fill("Sign in to {{app}}");
  await editor.getByLabel("Text", { exact: true }).fill("Hello {{name}}, welcome back.");
  await editor.getByRole("button", { name: "Save and preview" }).click();
  await expect(editor.getByRole("alert")).toContainText("{{code}}");

  await editor.getByLabel("Text", { exact: true }).fill("Your code is {{code}}. It lasts {{expires}}.");
  await editor.getByRole("button", { name: "Save and preview" }).click();
  const preview = page.getByTestId("template-preview");
  await expect(preview.getByTestId("preview-subject")).toHaveText(/^Sign in to /);
  await expect(preview.getByTestId("preview-text")).toContainText("Your code is 493027. It lasts 5 minutes.");
  const config = await (await page.request.get(`/api/v1/apps/${slug}/config`, { headers: bearer(token) })).json();
  expect(config.mail_templates.otp.text).toBe("Your code is {{code}}. It lasts {{expires}}.");

  // Back to Rampart's wording.
  await page.getByRole("button", { name: "Use Rampart's wording" }).click();
  await expect(page.getByTestId("template-editor")).toContainText("Rampart's wording is used");
  await expect(page.getByTestId("preview-subject")).toHaveText(/is your .* code$/);
  const after = await (await page.request.get(`/api/v1/apps/${slug}/config`, { headers: bearer(token) })).json();
  expect(after.mail_templates.otp).toBeUndefined();
});
