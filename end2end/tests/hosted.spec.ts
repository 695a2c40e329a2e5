import AxeBuilder from "@axe-core/playwright";
import type { APIRequestContext, BrowserContext, Page } from "@playwright/test";
import { accountToken, bearer, test as base, expect, newApp, newEndUser, PASSWORD, suffix } from "./fixtures";

// The hosted pages an app's end-users see (/{slug}/signin, signup, account, …), with
// JavaScript on: the flows the Rust tests run over plain HTTP (server/tests/api/hosted*.rs),
// here in Chromium with hosted.js checking fields as they are typed, the CSP enforced and
// axe-core looking at each page. Mail stays in the dev outbox of this run's server
// (playwright.config.ts), which the app's owner reads through GET /api/v1/apps/{slug}/mail.

/** Every CSP violation a context reports, and every uncaught error of its pages. Chromium
 *  fires `securitypolicyviolation` at the document for each thing the policy blocks, and
 *  logs it on the console too; both are kept, whichever comes. */
async function watchCsp(context: BrowserContext, seen: string[]) {
  await context.exposeBinding("__e2eCspViolation", ({ page }, what: string) => {
    seen.push(`${page.url()}: ${what}`);
  });
  await context.addInitScript(() => {
    document.addEventListener(
      "securitypolicyviolation",
      (e) => {
        const report = (window as unknown as { __e2eCspViolation: (s: string) => void }).__e2eCspViolation;
        report(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`);
      },
      true,
    );
  });
  const onPage = (page: Page) => {
    page.on("console", (m) => {
      if (/Content.Security.Policy/i.test(m.text())) seen.push(`${page.url()}: console ${m.text()}`);
    });
    page.on("pageerror", (e) => seen.push(`${page.url()}: pageerror ${e.message}`));
  };
  context.pages().forEach(onPage);
  context.on("page", onPage);
}

/** Each test fails if a page of its default context broke its CSP or threw; contexts a test
 *  opens itself are watched with `watchCsp(context, csp)`. */
const test = base.extend<{ csp: string[] }>({
  csp: [
    async ({ context }, use) => {
      const seen: string[] = [];
      await watchCsp(context, seen);
      await use(seen);
      expect(seen, "CSP violations and page errors").toEqual([]);
    },
    { auto: true },
  ],
});

/** A new account and app through the platform API, on a request context of its own (its
 *  cookies never reach the browser's). */
async function ownerWithApp(request: APIRequestContext) {
  const s = suffix();
  const account = { username: `dev-${s}`, email: `dev-${s}@example.com`, password: PASSWORD };
  expect((await request.post("/api/v1/auth/signup", { data: account })).status()).toBe(201);
  const token = await accountToken(request, account.username, account.password);
  const slug = await newApp(request, token);
  return { token, slug };
}

/** The link of the newest message of `kind` to `to`, from the app's dev outbox (the worker
 *  takes a moment to queue it). */
async function mailedLink(request: APIRequestContext, token: string, slug: string, to: string, kind: string) {
  let text = "";
  await expect
    .poll(
      async () => {
        const res = await request.get(`/api/v1/apps/${slug}/mail`, { headers: bearer(token) });
        expect(res.status()).toBe(200);
        const page = await res.json();
        expect(page.dev_outbox).toBe(true);
        const message = page.messages.find((m: { to: string; kind: string }) => m.to.includes(to) && m.kind === kind);
        text = message?.text ?? "";
        return text;
      },
      { message: `a ${kind} mail to ${to}`, timeout: 15_000 },
    )
    .not.toBe("");
  const link = text.match(/https?:\/\/\S+\?(?:token|code)=[A-Za-z0-9_-]+/)?.[0];
  expect(link, text).toBeTruthy();
  return link!;
}

async function signInOnPage(page: Page, slug: string, identifier: string, password: string) {
  await page.goto(`/${slug}/signin`);
  await page.getByLabel("Email or username").fill(identifier);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** axe-core on the page as it is now: no serious or critical WCAG 2 A/AA violation. */
async function expectAccessible(page: Page, what: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
  const bad = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(bad, `axe on ${what}`).toEqual([]);
  // It looked at something: the checks that passed include the form's labels.
  expect(results.passes.length, `axe on ${what} ran its checks`).toBeGreaterThan(5);
}

test("sign up with inline checks, confirm the email from the mail, sign in, and edit the profile", async ({
  page,
  request,
}, testInfo) => {
  const { token, slug } = await ownerWithApp(request);
  const s = suffix();
  const email = `ann-${s}@example.com`;
  const username = `ann-${s}`;

  await page.goto(`/${slug}/signup`);
  await expect(page.getByRole("heading", { level: 1, name: "Create your account" })).toBeVisible();
  await expect(page.getByText("Acme Corporation", { exact: true })).toBeVisible();
  const form = page.locator("#signup-form");
  const password = form.getByLabel("Password", { exact: true });
  const confirm = form.getByLabel("Confirm the password");
  const minLength = page.locator('#password-rules li[data-rule="min-length"]');
  await expect(minLength).toHaveText("at least 8 characters");
  await expect(minLength).not.toHaveClass(/\bmet\b/);

  // The script speaks as fields are left: a bad address, then a password under the policy.
  await form.getByLabel("Email").fill("ann-at-example.com");
  await form.getByLabel("Name (optional)", { exact: true }).focus();
  await expect(page.locator("#email-error")).toHaveText("Enter an email address like name@example.com.");
  await expect(form.getByLabel("Email")).toHaveAttribute("aria-invalid", "true");
  await form.getByLabel("Email").fill(email);
  await expect(page.locator("#email-error")).toBeEmpty();
  await expect(form.getByLabel("Email")).not.toHaveAttribute("aria-invalid", "true");
  await form.getByLabel("Name (optional)", { exact: true }).fill("Ann Example");
  await form.getByLabel("Username (optional)").fill(username);
  await password.fill("short");
  await confirm.focus();
  await expect(page.locator("#password-error")).toHaveText("The password does not meet every rule above.");
  await expect(password).toHaveAttribute("aria-invalid", "true");
  await expect(minLength).not.toHaveClass(/\bmet\b/);
  // The rule is the field's description, so a screen reader says it with the field.
  await expect(password).toHaveAccessibleDescription(/^Your password needs at least 8 characters\b/);
  await page.screenshot({ path: testInfo.outputPath("signup-inline-checks.png"), fullPage: true });

  // Submitting (Enter in the first field) with a mismatch stays on the page and takes the
  // user to the field to fix; nothing is posted.
  await password.fill(PASSWORD);
  await expect(minLength).toHaveClass(/\bmet\b/);
  await expect(page.locator("#password-error")).toBeEmpty();
  await expect(password).not.toHaveAttribute("aria-invalid", "true");
  await confirm.fill(`${PASSWORD}!`);
  let posted = false;
  page.on("request", (r) => {
    if (r.method() === "POST") posted = true;
  });
  await form.getByLabel("Email").press("Enter");
  await expect(page.locator("#password_confirm-error")).toHaveText("The two passwords are not the same.");
  await expect(confirm).toBeFocused();
  await expect(confirm).toHaveAttribute("aria-invalid", "true");
  expect(posted).toBe(false);
  await expect(page).toHaveURL(new RegExp(`/${slug}/signup$`));

  await confirm.fill(PASSWORD);
  await expect(page.locator("#password_confirm-error")).toBeEmpty();
  await form.getByRole("button", { name: "Create my account" }).click();

  // Signed up and signed in: the account page, the address not confirmed yet.
  await expect(page).toHaveURL(new RegExp(`/${slug}/account\\?lang=en&done=signed-up$`));
  await expect(page.getByRole("heading", { level: 1, name: "Your account" })).toBeVisible();
  await expect(page.getByRole("status")).toHaveText("Welcome! Check your email to confirm your address.");
  await expect(page.getByText(`Signed in as Ann Example (${username}).`)).toBeVisible();
  const contact = page.getByRole("row").filter({ hasText: email });
  await expect(contact).toContainText("Not verified");

  // The verification link from the mail: its page asks, its button confirms.
  const link = await mailedLink(request, token, slug, email, "verify_email");
  expect(link).toContain(`/${slug}/v1/auth/verify-email?token=`);
  await page.goto(link);
  await expect(page.getByRole("heading", { level: 1, name: "Confirm your email" })).toBeVisible();
  await page.getByRole("button", { name: "Confirm my email" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Email confirmed" })).toBeVisible();

  // Out, then in again with the address; the sign-in lands on the account page.
  await page.goto(`/${slug}/account`);
  await expect(contact).toContainText("Verified");
  await expect(contact).not.toContainText("Not verified");
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: "You are signed out" })).toBeVisible();
  await page.getByRole("link", { name: "Sign in again" }).click();
  await expect(page).toHaveURL(new RegExp(`/${slug}/signin\\?lang=en$`));
  await page.getByLabel("Email or username").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`/${slug}/account\\?lang=en&done=signed-in$`));
  await expect(page.getByRole("status")).toHaveText("You are signed in.");
  await expect(page.getByRole("row").filter({ hasText: email })).toContainText("Primary");

  // The profile: a new display name, said at the top.
  const profile = page.locator("#profile-form");
  await expect(profile.getByLabel("Display name")).toHaveValue("Ann Example");
  await profile.getByLabel("Display name").fill("Ann E. Xample");
  await profile.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("status")).toHaveText("Your profile was saved.");
  await expect(page.getByText(`Signed in as Ann E. Xample (${username}).`)).toBeVisible();
  await expect(profile.getByLabel("Display name")).toHaveValue("Ann E. Xample");
  await page.screenshot({ path: testInfo.outputPath("account.png"), fullPage: true });
});

test("a session signed out from the account page ends at once on the other browser", async ({
  page,
  browser,
  request,
  csp,
}, testInfo) => {
  const { slug } = await ownerWithApp(request);
  const ann = await newEndUser(request, slug, "ann");
  const phone = await browser.newContext({ userAgent: "RampartE2E-Phone/1.0" });
  await watchCsp(phone, csp);
  const other = await phone.newPage();

  await signInOnPage(page, slug, ann.email, ann.password);
  await expect(page).toHaveURL(new RegExp(`/${slug}/account\\?`));
  await signInOnPage(other, slug, ann.username, ann.password);
  await expect(other).toHaveURL(new RegExp(`/${slug}/account\\?`));

  // The first browser sees both, itself marked, and signs the phone out.
  await page.reload();
  const phoneRow = page.getByRole("row").filter({ hasText: "RampartE2E-Phone/1.0" });
  await expect(phoneRow).toHaveCount(1);
  await expect(phoneRow).toContainText("127.0.0.1");
  await expect(phoneRow).not.toContainText("This device");
  await expect(page.getByRole("row").filter({ hasText: "This device" })).toHaveCount(1);
  await page.screenshot({ path: testInfo.outputPath("account-sessions.png"), fullPage: true });
  await page.getByRole("button", { name: "Sign out the session of RampartE2E-Phone/1.0" }).click();
  await expect(page.getByRole("status")).toHaveText("That session was signed out.");
  await expect(phoneRow).toHaveCount(0);

  // The phone's next page is the sign-in, which brings it back to the account page.
  await other.goto(`/${slug}/account`);
  await expect(other).toHaveURL(new RegExp(`/${slug}/signin\\?lang=en&redirect_to=%2F${slug}%2Faccount$`));
  await expect(other.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await other.getByLabel("Email or username").fill(ann.username);
  await other.getByLabel("Password").fill(ann.password);
  await other.getByRole("button", { name: "Sign in" }).click();
  await expect(other).toHaveURL(new RegExp(`/${slug}/account$`));
  await expect(other.getByRole("heading", { level: 1, name: "Your account" })).toBeVisible();

  // The first browser was never signed out.
  await page.reload();
  await expect(page.getByRole("heading", { level: 1, name: "Your account" })).toBeVisible();
  await phone.close();
});

test("a forgotten password is reset from the mailed link, and the new one signs in", async ({ page, request }) => {
  const { token, slug } = await ownerWithApp(request);
  const bob = await newEndUser(request, slug, "bob");
  const newPassword = "TroubadourSaxophone77";

  await page.goto(`/${slug}/signin`);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(page).toHaveURL(new RegExp(`/${slug}/forgot-password\\?lang=en$`));
  await expect(page.getByRole("heading", { level: 1, name: "Forgot your password?" })).toBeVisible();
  await page.getByLabel("Email").fill(bob.email);
  await page.getByRole("button", { name: "Send me a link" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Check your email" })).toBeVisible();

  const link = await mailedLink(request, token, slug, bob.email, "reset_password");
  expect(link).toContain(`/${slug}/reset-password?token=`);
  await page.goto(link);
  await expect(page.getByRole("heading", { level: 1, name: "Choose a new password" })).toBeVisible();
  await page.getByLabel("New password").fill(newPassword);
  await page.getByLabel("Confirm the password").fill(newPassword);
  await page.getByRole("button", { name: "Change my password" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Password changed" })).toBeVisible();
  // The link is spent.
  await page.goto(link);
  await expect(page.getByRole("heading", { level: 1, name: "This link no longer works" })).toBeVisible();

  // The old password is refused, in the form, with what was typed kept.
  await signInOnPage(page, slug, bob.username, PASSWORD);
  await expect(page.getByRole("alert")).toContainText("The email, username or password is not right.");
  await expect(page.getByLabel("Email or username")).toHaveValue(bob.username);
  await expect(page.getByLabel("Password")).toHaveValue("");
  await page.getByLabel("Password").fill(newPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(new RegExp(`/${slug}/account\\?lang=en&done=signed-in$`));
  await expect(page.getByText(`Signed in as ${bob.display_name} (${bob.username}).`)).toBeVisible();
});

test("an invite from the management API is accepted on its page, which signs the new user in", async ({
  page,
  request,
}) => {
  const { token, slug } = await ownerWithApp(request);
  const email = `cy-${suffix()}@example.com`;
  const invited = await request.post(`/api/v1/apps/${slug}/end-users/invites`, {
    data: { email, name: "Cy Invited" },
    headers: bearer(token),
  });
  expect(invited.status()).toBe(201);

  const link = await mailedLink(request, token, slug, email, "invite");
  expect(link).toContain(`/${slug}/accept-invite?code=inv_`);
  await page.goto(link);
  await expect(page.getByRole("heading", { level: 1, name: "Accept your invite" })).toBeVisible();
  await expect(page.getByText(`You are invited to Acme Corporation as ${email}.`)).toBeVisible();
  await expect(page.getByRole("listitem").filter({ hasText: "at least 8 characters" })).toBeVisible();
  await page.getByLabel("New password").fill(PASSWORD);
  await page.getByLabel("Confirm the password").fill(PASSWORD);
  await page.getByRole("button", { name: "Accept the invite" }).click();

  await expect(page).toHaveURL(new RegExp(`/${slug}/account\\?lang=en&done=welcome$`));
  await expect(page.getByRole("status")).toHaveText("Welcome!");
  await expect(page.getByRole("row").filter({ hasText: email })).toContainText("Verified");
  await expect(page.getByRole("row").filter({ hasText: "This device" })).toHaveCount(1);
  // Spent: the link now says so.
  await page.goto(link);
  await expect(page.getByRole("heading", { level: 1, name: "This invite no longer works" })).toBeVisible();
});

test("the pages speak French from ?lang=fr and from the browser's language", async ({ page, browser, request, csp }, testInfo) => {
  const { slug } = await ownerWithApp(request);

  await page.goto(`/${slug}/signin?lang=fr`);
  await expect(page.locator("html")).toHaveAttribute("lang", "fr");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Connexion");
  await expect(page).toHaveTitle("Connexion · Acme Corporation");
  // Links keep the language.
  await page.getByRole("link", { name: "Créez-en un" }).click();
  await expect(page).toHaveURL(new RegExp(`/${slug}/signup\\?lang=fr$`));
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Créez votre compte");

  // A browser set to French gets French without asking, the script's checks included.
  const french = await browser.newContext({ locale: "fr-FR" });
  await watchCsp(french, csp);
  const fr = await french.newPage();
  await fr.goto(`/${slug}/signup`);
  await expect(fr.locator("html")).toHaveAttribute("lang", "fr");
  await expect(fr.getByRole("heading", { level: 1 })).toHaveText("Créez votre compte");
  await expect(fr.locator('#password-rules li[data-rule="min-length"]')).toHaveText("au moins 8 caractères");
  await fr.getByLabel("Adresse e-mail").fill("pas-une-adresse");
  await fr.getByLabel("Mot de passe", { exact: true }).fill("court");
  await fr.getByLabel("Confirmez le mot de passe").focus();
  await expect(fr.locator("#email-error")).toHaveText("Saisissez une adresse e-mail comme nom@exemple.fr.");
  await expect(fr.locator("#password-error")).toHaveText(
    "Le mot de passe ne respecte pas toutes les règles ci-dessus.",
  );
  await fr.screenshot({ path: testInfo.outputPath("signup-fr.png"), fullPage: true });

  // The way back to English, marked as English.
  const english = fr.getByRole("link", { name: "Read in English" });
  await expect(english).toHaveAttribute("lang", "en");
  await english.click();
  await expect(fr.locator("html")).toHaveAttribute("lang", "en");
  await expect(fr.getByRole("heading", { level: 1 })).toHaveText("Create your account");
  await french.close();
});

test("axe finds no serious violation, errors are announced, and sign-in works from the keyboard", async ({
  page,
  request,
}) => {
  const { slug } = await ownerWithApp(request);
  const dee = await newEndUser(request, slug, "dee");

  await page.goto(`/${slug}/signup`);
  await expectAccessible(page, "signup");
  // The same page showing the script's errors.
  await page.getByLabel("Email").fill("dee");
  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.getByRole("button", { name: "Create my account" }).click();
  await expect(page.locator("#password-error")).not.toBeEmpty();
  await expectAccessible(page, "signup with inline errors");

  await page.goto(`/${slug}/forgot-password`);
  await expectAccessible(page, "forgot-password");

  // A refused sign-in: the error region is a live region, filled by the server's answer.
  await page.goto(`/${slug}/signin`);
  await expectAccessible(page, "signin");
  const errors = page.locator("#form-errors");
  await expect(errors).toHaveAttribute("aria-live", "assertive");
  await expect(errors).toHaveAttribute("role", "alert");
  await expect(errors).toBeEmpty();
  await page.getByLabel("Email or username").fill(dee.username);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(errors).toContainText("The email, username or password is not right.");
  await expect(errors).toHaveAttribute("aria-live", "assertive");
  await expectAccessible(page, "signin with the server's error");

  // Keyboard only: Tab to each field, type, Enter.
  await page.goto(`/${slug}/signin`);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Email or username")).toBeFocused();
  await page.keyboard.type(dee.email);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.keyboard.type(dee.password);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/${slug}/account\\?lang=en&done=signed-in$`));
  await expect(page.getByRole("heading", { level: 1, name: "Your account" })).toBeVisible();
  await expectAccessible(page, "account");
});

test("the CSP blocks script and style the page did not send, and the watch of these tests sees it", async ({
  browser,
  request,
}) => {
  const { slug } = await ownerWithApp(request);
  // A context of its own, watched into a list of its own: this test causes violations.
  const context = await browser.newContext();
  const seen: string[] = [];
  await watchCsp(context, seen);
  const page = await context.newPage();
  await page.goto(`/${slug}/signin`);
  // The page's own script ran (under its nonce): the form is checked by it, not the browser.
  await expect(page.locator("#signin-form")).toHaveJSProperty("noValidate", true);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("#identifier-error")).toHaveText("Fill in this field.");
  await expect(page).toHaveURL(new RegExp(`/${slug}/signin$`));
  expect(seen).toEqual([]);

  // What an injection would add: an inline script and an inline style, both refused.
  await page.evaluate(() => {
    const script = document.createElement("script");
    script.textContent = "document.body.dataset.injected = 'ran';";
    document.body.append(script);
    const style = document.createElement("style");
    style.textContent = "body { display: none; }";
    document.head.append(style);
  });
  await expect.poll(() => seen.join("\n")).toMatch(/script-src[\s\S]*style-src|style-src[\s\S]*script-src/);
  await expect(page.locator("body")).not.toHaveAttribute("data-injected", "ran");
  await expect(page.getByRole("heading", { level: 1, name: "Sign in" })).toBeVisible();
  await context.close();
});
