import { bearer, expect, hydrated, newEndUser, ownerWithApp, test } from "./fixtures";

test("organizations are turned on in the auth config, listed, searched, opened; a member is removed and an org deleted", async ({
  page,
}) => {
  const { token, slug } = await ownerWithApp(page);

  // Turned on in the console's auth config, with who may create one.
  await page.goto(`/console/apps/${slug}/config`);
  await hydrated(page);
  const form = page.getByTestId("config-form");
  await form.getByRole("checkbox", { name: /^Organizations End-users/ }).check();
  await form.getByLabel("Who may create one").selectOption("any_user");
  await form.getByRole("button", { name: "Save changes" }).click();
  await expect(form.getByRole("status")).toHaveText("Saved");
  const config = await (await page.request.get(`/api/v1/apps/${slug}/config`, { headers: bearer(token) })).json();
  expect(config).toMatchObject({ organizations_enabled: true, organization_creation: "any_user" });

  // End-users make two organizations through the app's API.
  const ada = await newEndUser(page.request, slug, "ada");
  const bob = await newEndUser(page.request, slug, "bob");
  const bobId = (await (await page.request.get(`/${slug}/v1/me`, { headers: bearer(bob.accessToken) })).json()).id;
  const create = async (name: string) => {
    const res = await page.request.post(`/${slug}/v1/orgs`, { data: { name }, headers: bearer(ada.accessToken) });
    expect(res.status()).toBe(201);
    return (await res.json()).id as string;
  };
  const alpha = await create("Alpha Team");
  await create("Beta Crew");
  const added = await page.request.post(`/${slug}/v1/orgs/${alpha}/members`, {
    data: { user_id: bobId, role: "member" },
    headers: bearer(ada.accessToken),
  });
  expect(added.status()).toBe(201);

  await page.goto(`/console/apps/${slug}`);
  await hydrated(page);
  await page.getByRole("navigation", { name: "App sections" }).getByRole("link", { name: "Organizations" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/orgs$`));
  await expect(page.getByTestId("org")).toHaveCount(2);
  await expect(page.getByTestId("org").filter({ hasText: "Alpha Team" })).toContainText("2");

  await page.getByLabel("Search organizations").fill("alpha");
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page).toHaveURL(/search=alpha/);
  await expect(page.getByTestId("org")).toHaveCount(1);

  await page.getByRole("link", { name: "Alpha Team" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/orgs/${alpha}$`));
  const members = page.getByTestId("org-member");
  await expect(members).toHaveCount(2);
  await expect(members.filter({ hasText: ada.username })).toContainText("owner");

  // Removing the last owner is refused with the server's message; removing bob works.
  await page.getByRole("button", { name: `Remove ${ada.username} from the organization` }).click();
  await expect(page.getByRole("alert").filter({ hasText: "last owner" })).toBeVisible();
  await page.getByRole("button", { name: `Remove ${bob.username} from the organization` }).click();
  await expect(members).toHaveCount(1);
  const mine = await (await page.request.get(`/${slug}/v1/me/organizations`, { headers: bearer(bob.accessToken) })).json();
  expect(mine.organizations).toEqual([]);

  // Deleting it leads back to the list, without it.
  await page.getByText("Delete organization").click();
  await page.getByRole("button", { name: "Delete permanently" }).click();
  await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/orgs$`));
  await expect(page.getByTestId("org")).toHaveCount(1);
  await expect(page.getByTestId("org")).toContainText("Beta Crew");
  const gone = await page.request.get(`/api/v1/apps/${slug}/organizations/${alpha}`, { headers: bearer(token) });
  expect(gone.status()).toBe(404);
});
