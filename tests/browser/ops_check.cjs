// Drives the operations view (/ops) in headless Chromium with playwright-core, like portal_check.cjs.
// Input (env): OPS_URL, OPS_KEY, SCREENSHOT, CHROMIUM. Output: one JSON line with what it saw.
const { launch } = require("./launch.cjs");

(async () => {
  const browser = await launch();
  const seen = { console_errors: [], page_errors: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
    page.on("console", (m) => { if (m.type() === "error") seen.console_errors.push(m.text()); });
    page.on("pageerror", (e) => seen.page_errors.push(String(e)));
    const requests = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(process.env.OPS_URL, { waitUntil: "load" });
    seen.title = await page.title();
    seen.app_visible_before_key = await page.isVisible("#app");
    await page.fill("#key", process.env.OPS_KEY);
    await page.click("#signin-form button[type=submit]");
    await page.waitForSelector("body[data-loaded=true]", { timeout: 30000 });
    seen.cards = await page.$$eval("#signal-cards .card", (cards) => cards.map((c) => c.textContent));
    seen.chart_titles = await page.$$eval("#charts section h2", (hs) => hs.map((h) => h.textContent));
    seen.charts = await page.$$eval("#charts svg", (svgs) => svgs.length);
    seen.polylines = await page.$$eval("#charts svg polyline", (ls) => ls.length);
    seen.request_points = await page.$eval("#charts svg polyline", (l) => l.getAttribute("points"));
    seen.equity = await page.textContent("#equity p");
    seen.key_in_any_url = requests.some((u) => u.includes(process.env.OPS_KEY));
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(seen));
})().catch((error) => { console.error(error); process.exit(1); });
