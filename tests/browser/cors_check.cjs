// A reseller's page on another origin calls the Revgov API from headless Chromium with a key, as a browser app
// embedding Revgov does: a real CORS preflight and request, checked by the browser itself.
// Each page is served at https://<origin>/reseller.html (playwright answers the page request; the API is the real
// local stack on http://127.0.0.1). Input (env): API_BASE, API_KEY, API_PATH, ORIGINS (JSON list), CHROMIUM.
// Output: one JSON line {"<origin>": {"ok": bool, "status": n|null, "error": text|null, "body": {...}|null}}.
const { launch } = require("./launch.cjs");

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>reseller</title></head><body>
<pre id="out">running</pre>
<script>
(async () => {
  const out = document.getElementById("out");
  try {
    const response = await fetch(window.API_BASE + window.API_PATH, {
      method: "GET",
      headers: { Authorization: "Bearer " + window.API_KEY, "Content-Type": "application/json" },
    });
    const body = await response.json();
    out.textContent = JSON.stringify({ ok: response.ok, status: response.status, error: null, body });
  } catch (error) {
    out.textContent = JSON.stringify({ ok: false, status: null, error: String(error), body: null });
  }
})();
</script></body></html>`;

(async () => {
  // The reseller's page is public (https) and the API under test is on loopback: Chromium's local-network checks
  // (not CORS) would stop that before CORS is asked; in production both are public.
  const browser = await launch(["--disable-features=PrivateNetworkAccessSendPreflights," +
    "PrivateNetworkAccessRespectPreflightResults,BlockInsecurePrivateNetworkRequests,LocalNetworkAccessChecks"]);
  const seen = {};
  try {
    for (const origin of JSON.parse(process.env.ORIGINS)) {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      await context.route(origin + "/reseller.html", (route) =>
        route.fulfill({ status: 200, contentType: "text/html", body: PAGE }));
      await context.addInitScript(({ base, key, path }) => {
        window.API_BASE = base; window.API_KEY = key; window.API_PATH = path;
      }, { base: process.env.API_BASE, key: process.env.API_KEY, path: process.env.API_PATH });
      const page = await context.newPage();
      const consoleErrors = [];
      page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
      await page.goto(origin + "/reseller.html", { waitUntil: "load" });
      await page.waitForFunction(() => document.getElementById("out").textContent !== "running", null,
        { timeout: 20000 });
      seen[origin] = { ...JSON.parse(await page.textContent("#out")), console_errors: consoleErrors,
                       page_origin: await page.evaluate(() => location.origin) };
      await context.close();
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(seen));
})().catch((error) => { console.error(error); process.exit(1); });
