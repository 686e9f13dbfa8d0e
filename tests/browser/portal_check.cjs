// Drives the branded portal in headless Chromium (Debian's /usr/bin/chromium) with playwright-core.
// Input (env): PORTAL_URL, PORTAL_KEY, APPROVAL_ID, SCREENSHOT, CHROMIUM. Output: one JSON line with what it saw.
const { chromium } = require("playwright-core");

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync"],
  });
  const seen = { console_errors: [], csp_violations: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on("console", (m) => { if (m.type() === "error") seen.console_errors.push(m.text()); });
    page.on("pageerror", (e) => seen.console_errors.push(String(e)));
    const requests = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(process.env.PORTAL_URL, { waitUntil: "load" });
    seen.title = await page.title();
    seen.heading = await page.textContent("#portal-title");
    seen.tenant_name = await page.textContent("#tenant-name");
    seen.header_background = await page.evaluate(() => getComputedStyle(document.querySelector("header")).backgroundColor);
    seen.logo_src = await page.getAttribute("#logo", "src");
    seen.signin_visible = await page.isVisible("#signin");
    seen.app_visible_before_key = await page.isVisible("#app");
    await page.fill("#key", process.env.PORTAL_KEY);
    await page.click("#signin-form button[type=submit]");
    await page.waitForSelector("body[data-loaded=true]", { timeout: 20000 });
    seen.key_in_session_storage = await page.evaluate(() => Object.keys(sessionStorage).some((k) => k.endsWith(".key")));
    seen.who = await page.textContent("#who");
    seen.kpi_cards = await page.$$eval("#kpi-cards .card", (cards) => cards.map((c) => c.textContent));
    seen.charts = await page.$$eval("main svg", (svgs) => svgs.length);
    const approve = `button[data-approval="${process.env.APPROVAL_ID}"][data-action="approve"]`;
    await page.waitForSelector(approve, { timeout: 10000 });
    await page.fill(`input[aria-label="note for ${process.env.APPROVAL_ID}"]`, "approved from the portal");
    await page.click(approve);
    await page.waitForFunction(
      (id) => document.getElementById("status").textContent.includes(id + " approved"), process.env.APPROVAL_ID,
      { timeout: 10000 });
    seen.status = await page.textContent("#status");
    seen.approval_row_gone = (await page.$(approve)) === null;
    await page.fill("#question", "What is the margin floor on a quote line?");
    await page.click("#copilot-form button[type=submit]");
    await page.waitForFunction(() => !document.getElementById("answer").textContent.startsWith("Searching"),
      null, { timeout: 30000 });
    seen.copilot_answer = (await page.textContent("#answer")).slice(0, 300);
    seen.key_in_any_url = requests.some((u) => u.includes(process.env.PORTAL_KEY) || u.includes("rgk."));
    await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
    seen.screenshot = process.env.SCREENSHOT;
    if (process.env.PARTNER_KEY) {  // a partner key in a fresh tab: the partner view, no staff sections
      const partnerPage = await (await browser.newContext()).newPage();
      await partnerPage.goto(process.env.PORTAL_URL, { waitUntil: "load" });
      await partnerPage.fill("#key", process.env.PARTNER_KEY);
      await partnerPage.click("#signin-form button[type=submit]");
      await partnerPage.waitForSelector("body[data-loaded=true]", { timeout: 20000 });
      seen.partner_who = await partnerPage.textContent("#who");
      seen.partner_forecast_chart = (await partnerPage.$("#forecast svg")) !== null;
      seen.partner_sees_approvals = await partnerPage.isVisible("#approvals-section");
      seen.partner_margin_card = await partnerPage.textContent("#kpi-cards .card .value");
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(seen));
})().catch((error) => { console.error(error); process.exit(1); });
