import { accountToken, bearer, expect, hydrated, newAccount, ownerWithApp, test } from "./fixtures";
import type { Page } from "@playwright/test";

/** The app's config through the management API: what was saved, whatever the page shows. */
async function savedConfig(page: Page, slug: string, token: string) {
  const res = await page.request.get(`/api/v1/apps/${slug}/config`, { headers: bearer(token) });
  expect(res.status()).toBe(200);
  return res.json();
}

test("branding is previewed as it is typed, refused values are marked, and saved values are kept", async ({
  page,
}, testInfo) => {
  const { token, slug } = await ownerWithApp(page);

  // The overview links to the app's hosted pages, in a new tab.
  await page.goto(`/console/apps/${slug}`);
  await hydrated(page);
  const overviewLink = page.getByTestId("app-facts").getByRole("link", { name: "View hosted pages" });
  await expect(overviewLink).toHaveAttribute("href", `/${slug}/signin`);
  await expect(overviewLink).toHaveAttribute("target", "_blank");

  await page.getByRole("navigation", { name: "App sections" }).getByRole("link", { name: "Hosted pages" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/hosted$`));
  await expect(page.getByTestId("view-hosted")).toHaveAttribute("href", `/${slug}/signin`);
  await expect(page.getByTestId("view-hosted")).toHaveAttribute("target", "_blank");

  const form = page.getByTestId("hosted-form");
  const preview = page.getByTestId("brand-preview");
  const textbox = (name: string | RegExp) => form.getByRole("textbox", { name });
  const primary = textbox(/^Primary colour/);

  // Rampart's look until the app has its own.
  await expect(page.getByTestId("preview-name")).toHaveText("Acme Corporation");
  await expect(page.getByTestId("preview-button")).toHaveCSS("background-color", "rgb(52, 81, 209)");
  await expect(preview).toHaveAttribute("data-theme", "auto");

  // Typed values restyle the preview at once, before any save.
  await textbox(/^Display name/).fill("Globex Hub");
  await expect(page.getByTestId("preview-name")).toHaveText("Globex Hub");
  await primary.fill("#0a7d5a");
  await expect(page.getByTestId("preview-button")).toHaveCSS("background-color", "rgb(10, 125, 90)");
  await textbox(/^Logo URL/).fill("https://cdn.globex.example/logo.png");
  await expect(page.getByTestId("preview-logo")).toHaveAttribute("src", "https://cdn.globex.example/logo.png");
  await textbox(/^Support link/).fill("mailto:help@globex.example");
  await expect(page.getByTestId("preview-support")).toHaveAttribute("href", "mailto:help@globex.example");
  await form.getByRole("combobox", { name: /^Theme/ }).selectOption("dark");
  await expect(preview).toHaveAttribute("data-theme", "dark");
  await expect(preview).toHaveCSS("background-color", "rgb(20, 22, 28)");
  await form.getByText("Colours, corners and font").click();
  await textbox(/^Corner radius/).fill("4px");
  await expect(page.getByTestId("preview-button")).toHaveCSS("border-radius", "4px");

  // The colour picker and the text field follow each other.
  await form.getByLabel("Colour picker: Primary colour").fill("#aa3300");
  await expect(primary).toHaveValue("#aa3300");
  await expect(page.getByTestId("preview-button")).toHaveCSS("background-color", "rgb(170, 51, 0)");
  await primary.fill("#0a7d5a");

  // A value the server would refuse: marked on its field with the config's message, and not
  // applied to the preview (the saved colour stands in for it).
  await primary.fill("green");
  await expect(primary).toHaveAttribute("aria-invalid", "true");
  await expect(form.getByTestId("branding")).toContainText("branding.primary_color must be a colour like #3451d1");
  await expect(page.getByTestId("preview-refused")).toContainText("branding.primary_color must be");
  await expect(page.getByTestId("preview-button")).toHaveCSS("background-color", "rgb(52, 81, 209)");
  await textbox(/^Logo URL/).fill("javascript:alert(1)");
  await expect(textbox(/^Logo URL/)).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId("preview-logo")).toHaveCount(0);
  await expect(page.getByTestId("preview-refused")).toContainText("branding.logo_url must be an https:// URL");
  await textbox(/^Logo URL/).fill("https://cdn.globex.example/logo.png");
  await primary.fill("#0a7d5a");
  await expect(primary).not.toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId("preview-refused")).toHaveCount(0);
  await expect(page.getByTestId("preview-button")).toHaveCSS("background-color", "rgb(10, 125, 90)");

  // The other settings of the tab, lifetimes in days and hours.
  const redirects = form.getByRole("textbox", { name: /^Allowed redirect URLs/ });
  await expect(redirects).toHaveValue("");
  await redirects.fill("https://globex.example/welcome\n\nhttps://globex.example/done\n");
  await form.getByRole("textbox", { name: /^Allowed origins/ }).fill("https://globex.example\nhttp://localhost:5173");
  await form.getByRole("spinbutton", { name: /^Session lifetime/ }).fill("14");
  await expect(form.getByRole("combobox", { name: "Session lifetime: unit" })).toHaveValue("86400");
  await form.getByRole("spinbutton", { name: /^Renew when used within/ }).fill("36");
  await form.getByRole("combobox", { name: "Renew when used within: unit" }).selectOption({ label: "hours" });
  await form.getByLabel("Require a CSRF token").check();

  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(form.getByRole("status")).toHaveText("Saved");
  expect(await savedConfig(page, slug, token)).toMatchObject({
    allowed_redirect_urls: ["https://globex.example/welcome", "https://globex.example/done"],
    allowed_origins: ["https://globex.example", "http://localhost:5173"],
    session_cookie_ttl_seconds: 14 * 86400,
    session_cookie_renew_within_seconds: 36 * 3600,
    session_max_lifetime_seconds: 30 * 86400,
    csrf_token_required: true,
    branding: {
      display_name: "Globex Hub",
      logo_url: "https://cdn.globex.example/logo.png",
      primary_color: "#0a7d5a",
      theme: "dark",
      support_url: "mailto:help@globex.example",
      css_variables: { radius: "4px" },
    },
  });
  await preview.scrollIntoViewIfNeeded();
  await page.screenshot({ path: testInfo.outputPath("console-branding.png"), fullPage: true });

  // What the page shows after a reload is what was saved, the preview included.
  await page.reload();
  await hydrated(page);
  await expect(textbox(/^Display name/)).toHaveValue("Globex Hub");
  await expect(primary).toHaveValue("#0a7d5a");
  await expect(form.getByRole("combobox", { name: /^Theme/ })).toHaveValue("dark");
  await expect(textbox(/^Corner radius/)).toHaveValue("4px");
  await expect(form.getByRole("spinbutton", { name: /^Session lifetime/ })).toHaveValue("14");
  await expect(form.getByRole("spinbutton", { name: /^Renew when used within/ })).toHaveValue("36");
  await expect(form.getByRole("combobox", { name: "Renew when used within: unit" })).toHaveValue("3600");
  await expect(form.getByLabel("Require a CSRF token")).toBeChecked();
  await expect(redirects).toHaveValue("https://globex.example/welcome\nhttps://globex.example/done");
  await expect(page.getByTestId("preview-name")).toHaveText("Globex Hub");
  await expect(page.getByTestId("preview-button")).toHaveCSS("background-color", "rgb(10, 125, 90)");
  await expect(page.getByTestId("preview-button")).toHaveCSS("border-radius", "4px");

  // The server's refusal of a setting: its message, its field marked, nothing saved.
  const origins = form.getByRole("textbox", { name: /^Allowed origins/ });
  await origins.fill("https://globex.example/app");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(form.getByRole("alert")).toContainText("allowed_origins must hold origins like https://app.example.com");
  await expect(origins).toHaveAttribute("aria-invalid", "true");
  expect((await savedConfig(page, slug, token)).allowed_origins).toEqual([
    "https://globex.example",
    "http://localhost:5173",
  ]);
  await origins.fill("https://globex.example");
  await redirects.fill("https://globex.example/welcome\n/relative");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(form.getByRole("alert")).toContainText("allowed_redirect_urls must hold absolute http(s) URLs");
  await expect(redirects).toHaveAttribute("aria-invalid", "true");
  await expect(origins).not.toHaveAttribute("aria-invalid", "true");
  expect((await savedConfig(page, slug, token)).allowed_redirect_urls).toHaveLength(2);
  await redirects.fill("https://globex.example/welcome");
  // A refused colour is refused by the server too, with the same message.
  await primary.fill("#12345");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(form.getByRole("alert")).toContainText("branding.primary_color must be a colour like #3451d1");
  await expect(primary).toHaveAttribute("aria-invalid", "true");
  expect((await savedConfig(page, slug, token)).branding.primary_color).toBe("#0a7d5a");
});

test("branding saves without JavaScript, a refused value marked on its field", async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const account = await newAccount(page);
  const token = await accountToken(page.request, account.username, account.password);
  const slug = `nojs-${Math.random().toString(36).slice(2, 8)}`;
  const created = await page.request.post("/api/v1/apps", {
    data: { slug, displayName: "No JS" },
    headers: bearer(token),
  });
  expect(created.status()).toBe(201);
  await page.goto("/console/signin");
  await page.getByLabel("Username or email").fill(account.username);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("account")).toHaveText(account.username);

  await page.goto(`/console/apps/${slug}/hosted`);
  const form = page.getByTestId("hosted-form");
  const primary = form.getByRole("textbox", { name: /^Primary colour/ });
  await expect(form.getByLabel("Colour picker: Primary colour")).toHaveCount(0);
  await primary.fill("blue");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(form.getByRole("alert")).toContainText("branding.primary_color must be a colour like #3451d1");
  await expect(primary).toHaveAttribute("aria-invalid", "true");
  await expect(form.getByTestId("branding")).toContainText("branding.primary_color must be a colour like #3451d1");

  await primary.fill("#aa3300");
  await form.getByRole("textbox", { name: /^Display name/ }).fill("Plain Forms Inc");
  await form.getByRole("spinbutton", { name: /^Longest session/ }).fill("60");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(form.getByRole("alert")).toHaveText("");
  await expect(primary).toHaveValue("#aa3300");
  await expect(page.getByTestId("preview-name")).toHaveText("Plain Forms Inc");
  expect(await savedConfig(page, slug, token)).toMatchObject({
    session_max_lifetime_seconds: 60 * 86400,
    branding: { primary_color: "#aa3300", display_name: "Plain Forms Inc", theme: "auto" },
  });
  await context.close();
});
