import * as http from "node:http";
import { AddressInfo } from "node:net";
import { accountToken, bearer, expect, newAccount, newApp, newEndUser, test } from "./fixtures";

/** What the single-page app is told by the page that serves it. */
type SpaConfig = { issuer: string; clientId: string; redirectUri: string; revoke?: boolean; accessToken?: string };

/**
 * The single-page app, run in the browser on its own origin: discovery and the JWKS, the
 * authorization request with PKCE (S256, made with WebCrypto), then on the callback the code
 * exchange, userinfo and revocation, each a plain `fetch` across origins. It writes what it
 * saw into `#result`. Serialized into the page with `toString`, so it uses nothing from here.
 */
function spa(config: SpaConfig) {
  const out = (value: unknown) => {
    const pre = document.createElement("pre");
    pre.id = "result";
    pre.textContent = JSON.stringify(value);
    document.body.append(pre);
  };
  const b64url = (bytes: ArrayBuffer | Uint8Array) =>
    btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const random = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
  const run = async () => {
    const discovery = await (await fetch(`${config.issuer}/.well-known/openid-configuration`)).json();
    if (location.pathname !== "/callback") {
      const verifier = random();
      const state = random();
      sessionStorage.setItem("pkce", JSON.stringify({ verifier, state }));
      const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
      const url = new URL(discovery.authorization_endpoint);
      url.search = new URLSearchParams({
        response_type: "code",
        client_id: config.clientId,
        redirect_uri: config.redirectUri,
        scope: "openid profile email",
        state,
        nonce: random(),
        code_challenge: challenge,
        code_challenge_method: "S256",
      }).toString();
      location.assign(url.toString());
      return;
    }
    const { verifier, state } = JSON.parse(sessionStorage.getItem("pkce") ?? "{}");
    const back = new URLSearchParams(location.search);
    if (back.get("state") !== state || back.get("iss") !== config.issuer) {
      out({ error: "state or iss differ", back: location.search });
      return;
    }
    const jwks = await (await fetch(discovery.jwks_uri)).json();
    const body = new URLSearchParams({
      grant_type: "authorization_code",
      code: back.get("code") ?? "",
      code_verifier: verifier,
      client_id: config.clientId,
      redirect_uri: config.redirectUri,
    });
    const exchanged = await fetch(discovery.token_endpoint, { method: "POST", body });
    const tokens = await exchanged.json();
    // An Authorization header: the browser asks a preflight first.
    const info = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    const userinfo = await info.json();
    const refreshed = await fetch(discovery.token_endpoint, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: config.clientId }),
    });
    const fresh = await refreshed.json();
    const revoked = config.revoke
      ? await fetch(discovery.revocation_endpoint, {
          method: "POST",
          body: new URLSearchParams({ token: fresh.refresh_token, client_id: config.clientId }),
        })
      : undefined;
    out({
      keys: jwks.keys.length,
      exchangeStatus: exchanged.status,
      tokens,
      userinfoStatus: info.status,
      userinfo,
      refreshStatus: refreshed.status,
      fresh,
      revokeStatus: revoked?.status,
    });
  };
  run().catch((e) => out({ error: String(e) }));
}

/** A page of another origin holding a token, trying what the single-page app does. */
function foreign(config: SpaConfig) {
  const attempt = async (url: string, init?: RequestInit) => {
    try {
      return (await fetch(url, init)).status;
    } catch {
      return "blocked";
    }
  };
  const run = async () => {
    const token = await attempt(`${config.issuer}/oauth2/token`, {
      method: "POST",
      body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: "ort_x", client_id: config.clientId }),
    });
    const userinfo = await attempt(`${config.issuer}/oauth2/userinfo`, {
      headers: { authorization: `Bearer ${config.accessToken}` },
    });
    // Public documents are readable from anywhere.
    const discovery = await attempt(`${config.issuer}/.well-known/openid-configuration`);
    const pre = document.createElement("pre");
    pre.id = "result";
    pre.textContent = JSON.stringify({ token, userinfo, discovery });
    document.body.append(pre);
  };
  void run();
}

/** The claims of a JWT, unverified. */
function payload(jwt: string) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
}

test("a single-page app on another origin signs in with code + PKCE and calls the token, userinfo and revocation endpoints by fetch", async ({ page, baseURL }) => {
  // The app's own server: a random port on loopback, reached as `localhost`, so its origin
  // differs from Rampart's (127.0.0.1) in host and port. It serves one page for every path,
  // the app's script configured for the issuer and client given at the first request.
  let config: SpaConfig | undefined;
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const script = path === "/foreign" ? `(${foreign.toString()})(${JSON.stringify(config)})` : `(${spa.toString()})(${JSON.stringify(config)})`;
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><html lang="en"><head><title>SPA</title></head><body><script>${script}</script></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const port = (server.address() as AddressInfo).port;
  const spaOrigin = `http://localhost:${port}`;
  try {
    const rampart = new URL(baseURL ?? "http://127.0.0.1").origin;
    expect(rampart).not.toBe(spaOrigin);
    const account = await newAccount(page);
    const token = await accountToken(page.request, account.username, account.password);
    const slug = await newApp(page.request, token);
    const user = await newEndUser(page.request, slug, "spa");
    const created = await page.request.post(`/api/v1/apps/${slug}/oidc-clients`, {
      headers: bearer(token),
      data: {
        name: "Reader SPA",
        client_type: "public",
        first_party: true,
        redirect_uris: [`${spaOrigin}/callback`],
        scopes: ["openid", "profile", "email", "offline_access"],
      },
    });
    expect(created.status()).toBe(201);
    const clientId = (await created.json()).client_id as string;
    config = { issuer: `${rampart}/${slug}`, clientId, redirectUri: `${spaOrigin}/callback`, revoke: true };

    // The app sends the browser to Rampart's sign-in page, which sends it back with a code.
    await page.goto(`${spaOrigin}/`);
    await expect(page).toHaveURL(new RegExp(`^${rampart}/${slug}/signin`));
    await page.getByLabel("Email or username").fill(user.username);
    await page.getByLabel("Password").fill(user.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(new RegExp(`^${spaOrigin}/callback\\?code=`));
    const result = JSON.parse((await page.locator("#result").textContent()) ?? "{}");
    expect(result.error).toBeUndefined();
    expect(result.keys).toBeGreaterThan(0);
    expect(result.exchangeStatus).toBe(200);
    expect(result.tokens.token_type).toBe("Bearer");
    const idToken = payload(result.tokens.id_token);
    expect(idToken.aud).toBe(clientId);
    expect(idToken.amr).toEqual(["pwd"]);
    expect(result.userinfoStatus).toBe(200);
    expect(result.userinfo.email).toBe(user.email);
    expect(result.refreshStatus).toBe(200);
    expect(payload(result.fresh.id_token).amr).toEqual(["pwd"]);
    expect(result.revokeStatus).toBe(200);
    // Revoked: the session behind the tokens is over.
    const after = await page.request.get(`/${slug}/oauth2/userinfo`, { headers: bearer(result.fresh.access_token) });
    expect(after.status()).toBe(401);

    // Again, the browser still signed in at Rampart: straight back with a code; this time
    // the app keeps its tokens.
    config = { ...config, revoke: false };
    await page.goto(`${spaOrigin}/`);
    await expect(page).toHaveURL(new RegExp(`^${spaOrigin}/callback\\?code=`));
    const again = JSON.parse((await page.locator("#result").textContent()) ?? "{}");
    expect([again.exchangeStatus, again.userinfoStatus, again.revokeStatus]).toEqual([200, 200, undefined]);
    const live = again.fresh.access_token as string;

    // The same app's page served from an origin no client registered (127.0.0.1 at the
    // app's port), holding that live token: the token and userinfo answers are not readable
    // there (userinfo's preflight is refused); discovery is.
    config = { ...config, accessToken: live };
    await page.goto(`http://127.0.0.1:${port}/foreign`);
    const refused = JSON.parse((await page.locator("#result").textContent()) ?? "{}");
    expect(refused).toEqual({ token: "blocked", userinfo: "blocked", discovery: 200 });
    const still = await page.request.get(`/${slug}/oauth2/userinfo`, { headers: bearer(live) });
    expect(still.status()).toBe(200);
  } finally {
    server.close();
  }
});
