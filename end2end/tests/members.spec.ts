import { spawn, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { expect, hydrated, PASSWORD, suffix, test } from "./fixtures";

// A member invite is mailed by the `platform` app, never shown on an app's Mail page (whoever
// reads that page could otherwise take the invite). So this test runs its own Rampart whose
// SMTP server is a tiny sink right here, and reads the invite from the mail as a person would.

type Sink = { server: net.Server; port: number; messages: string[] };

/** Just enough SMTP to take lettre's messages (plain, no TLS, no auth). */
async function smtpSink(): Promise<Sink> {
  const messages: string[] = [];
  const server = net.createServer((socket) => {
    let buffer = "";
    let data: string | null = null;
    socket.write("220 sink ESMTP\r\n");
    socket.on("data", (chunk) => {
      buffer += chunk.toString("latin1");
      for (;;) {
        if (data !== null) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) return;
          messages.push(data + buffer.slice(0, end));
          buffer = buffer.slice(end + 5);
          data = null;
          socket.write("250 queued\r\n");
          continue;
        }
        const eol = buffer.indexOf("\r\n");
        if (eol < 0) return;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "DATA") {
          data = "";
          socket.write("354 go on\r\n");
        } else if (verb === "QUIT") {
          socket.end("221 bye\r\n");
        } else {
          socket.write("250 ok\r\n");
        }
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as net.AddressInfo).port, messages };
}

/** The message body as text: quoted-printable soft breaks and escapes undone. */
function decoded(raw: string) {
  return raw.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
}

async function startRampart(smtpPort: number): Promise<{ child: ChildProcess; base: string }> {
  const port = 49100 + Math.floor(Math.random() * 800);
  const base = `http://127.0.0.1:${port}`;
  const dataDir = path.join(os.tmpdir(), `rampart-e2e-members-${process.pid}-${Date.now()}`);
  const root = path.resolve(__dirname, "..", "..");
  const child = spawn(process.env.RAMPART_BIN ?? path.join(root, "target", "debug", "rampart"), ["serve"], {
    env: {
      ...process.env,
      RAMPART_BIND: `127.0.0.1:${port}`,
      RAMPART_DATA_DIR: dataDir,
      DATABASE_URL: `sqlite://${dataDir}/rampart.db`,
      LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? path.join(root, "target", "site"),
      RUST_LOG: "warn",
      RAMPART_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      RAMPART_PUBLIC_URL: base,
    },
    stdio: "ignore",
  });
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${base}/ready`)).ok) return { child, base };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill();
  throw new Error("Rampart did not start");
}

test("an owner invites a teammate by email, who accepts from the mailed link; the owner changes the role, then removes them", async ({
  browser,
}, testInfo) => {
  test.setTimeout(120_000);
  const sink = await smtpSink();
  const { child, base } = await startRampart(sink.port);
  try {
    const owner = await browser.newContext({ baseURL: base });
    const teammate = await browser.newContext({ baseURL: base });
    const page = await owner.newPage();
    const s = suffix();

    // The owner: an account and an app, through the console.
    await page.goto("/console/signup");
    await hydrated(page);
    await page.getByLabel("Email").fill(`owner-${s}@example.com`);
    await page.getByLabel("Username").fill(`owner-${s}`);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByTestId("account")).toHaveText(`owner-${s}`);
    const slug = `crew-${s}`;
    await page.getByLabel("Slug").fill(slug);
    await page.getByLabel("Display name").fill("Crew App");
    await page.getByRole("button", { name: "Create app" }).click();
    await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}$`));

    // Members tab: the owner alone; invite a teammate as admin.
    await page.getByRole("link", { name: "Members" }).click();
    await expect(page).toHaveURL(new RegExp(`/console/apps/${slug}/members$`));
    await hydrated(page);
    await expect(page.getByTestId("member")).toHaveCount(1);
    await expect(page.getByTestId("member")).toHaveAttribute("data-role", "owner");
    await expect(page.getByTestId("no-member-invites")).toBeVisible();
    const email = `mate-${s}@example.com`;
    const form = page.getByTestId("invite-member");
    await form.getByLabel("Email").fill(email);
    await form.getByLabel("Role").selectOption("admin");
    await form.getByRole("button", { name: "Send invite" }).click();
    await expect(page.getByTestId("member-invite-sent")).toContainText(`Invite sent to ${email} as admin`);
    await expect(page.getByTestId("member-invites").locator(`[data-email="${email}"]`)).toContainText("admin");

    // The mail arrives with a link into the console.
    let link = "";
    await expect(async () => {
      const mail = sink.messages.map(decoded).find((m) => m.includes(email) && m.includes("accept-invite"));
      expect(mail).toBeTruthy();
      link = mail!.match(/https?:\/\/[^\s"<>]+\/console\/accept-invite\?code=minv_[A-Za-z0-9_-]+/)![0];
    }).toPass({ timeout: 20_000 });
    expect(link.startsWith(`${base}/console/accept-invite?code=minv_`)).toBe(true);

    // The teammate opens it without an account, creates one, and comes back to accept.
    const mate = await teammate.newPage();
    await mate.goto(link);
    await expect(mate.getByTestId("invite-summary")).toContainText("Crew App");
    await expect(mate.getByTestId("invite-summary")).toContainText("admin");
    await hydrated(mate);
    await mate.getByRole("link", { name: "Create an account" }).click();
    await expect(mate).toHaveURL(/\/console\/signup\?next=/);
    await hydrated(mate);
    await mate.getByLabel("Email").fill(email);
    await mate.getByLabel("Username").fill(`mate-${s}`);
    await mate.getByLabel("Password").fill(PASSWORD);
    await mate.getByRole("button", { name: "Create account" }).click();
    await expect(mate).toHaveURL(/\/console\/accept-invite\?code=minv_/);
    await hydrated(mate);
    await mate.getByRole("button", { name: "Accept the invite" }).click();
    await expect(mate).toHaveURL(new RegExp(`/console/apps/${slug}$`));
    await expect(mate.getByTestId("app-facts")).toContainText("admin");
    await mate.goto("/console");
    await expect(mate.getByTestId("apps")).toContainText("Crew App");
    await expect(mate.getByTestId("apps")).toContainText("admin");

    // The owner sees the teammate, makes them a plain member, then removes them.
    await page.reload();
    await hydrated(page);
    const row = page.getByTestId("member").filter({ hasText: `mate-${s}` });
    await expect(row).toHaveAttribute("data-role", "admin");
    await expect(page.getByTestId("no-member-invites")).toBeVisible();
    await row.getByLabel(`Role of mate-${s}`).selectOption("member");
    await row.getByRole("button", { name: "Change" }).click();
    await expect(page.getByTestId("member").filter({ hasText: `mate-${s}` })).toHaveAttribute("data-role", "member");
    await mate.goto(`/console/apps/${slug}`);
    await expect(mate.getByTestId("app-facts")).toContainText("member");
    await page.screenshot({ path: testInfo.outputPath("console-members.png"), fullPage: true });
    await page.getByTestId("member").filter({ hasText: `mate-${s}` }).getByRole("button", { name: `Remove mate-${s}` }).click();
    await expect(page.getByTestId("member")).toHaveCount(1);
    await mate.goto("/console");
    await expect(mate.getByTestId("apps")).toHaveCount(0);
    await owner.close();
    await teammate.close();
  } finally {
    child.kill();
    sink.server.close();
  }
});
