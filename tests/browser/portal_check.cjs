// Drives the branded portal in headless Chromium (Debian's /usr/bin/chromium) with playwright-core.
// Input (env): PORTAL_URL, PORTAL_KEY, APPROVAL_ID, SCREENSHOT, CHROMIUM, and optionally FINANCE_KEY, PARTNER_KEY.
// Without PORTAL_KEY only the branding before sign-in is checked. With PARTNER_ONLY=1 (PARTNER_KEY, DISPUTE_INVOICE,
// DISPUTE_REASON) the partner view alone: its quotes and invoices, a line disputed from the page, and everything the
// page showed and the API answered it (to check no other partner's data is among it). Output: one JSON line.
const { launch } = require("./launch.cjs");

async function partnerOnly(page, seen) {
  const answered = [];
  page.on("response", async (r) => {
    if (r.url().includes("/v1/")) answered.push(r.url() + " " + (await r.text().catch(() => "")));
  });
  await page.fill("#key", process.env.PARTNER_KEY);
  await page.click("#signin-form button[type=submit]");
  await page.waitForSelector("body[data-loaded=true]", { timeout: 30000 });
  const rows = (id) => page.$$eval(`#${id} tr`, (trs) => trs.slice(1).map((r) => [...r.cells].map((c) => c.textContent)));
  seen.partner_who = await page.textContent("#who");
  seen.period = await page.inputValue("#period");
  seen.partner_sections = await page.$$eval("section.partner", (ss) =>
    ss.filter((s) => !s.classList.contains("hidden")).map((s) => s.id));
  seen.quotes = await rows("partner-quotes");
  seen.invoices = await rows("partner-invoices");
  seen.rebates = await rows("partner-rebates");
  const invoice = process.env.DISPUTE_INVOICE;
  await page.click(`button[data-invoice="${invoice}"]`);
  await page.waitForSelector("#partner-invoice-lines form.dispute", { timeout: 10000 });
  seen.invoice_title = await page.textContent("#partner-invoice-title");
  seen.invoice_lines = await rows("partner-invoice-lines");
  const form = "#partner-invoice-lines form.dispute[data-line='1']";
  // bad input first: an amount with three decimals is refused by the API, said on the page, and files nothing
  await page.fill(`${form} input[name=amount]`, "12.345");
  await page.fill(`${form} input[name=reason]`, process.env.DISPUTE_REASON);
  await page.click(`${form} button[type=submit]`);
  await page.waitForFunction(() => /Could not dispute line 1/.test(document.getElementById("status").textContent),
    null, { timeout: 10000 });
  seen.bad_amount_status = await page.textContent("#status");
  await page.fill(`${form} input[name=amount]`, "");
  await page.evaluate(() => { document.getElementById("status").textContent = ""; });
  await page.click(`${form} button[type=submit]`);
  await page.waitForFunction(() => /Dispute of line 1 filed|Could not dispute/.test(document.getElementById("status").textContent),
    null, { timeout: 10000 });
  seen.status = await page.textContent("#status");
  seen.dispute_id = await page.getAttribute("#partner-invoice-lines [data-dispute]", "data-dispute").catch(() => null);
  await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  seen.page_text = await page.evaluate(() => document.body.innerText);
  seen.page_html = await page.content();
  seen.api_answers = answered.join("\n");
  await page.click("#signout");  // signing out leaves nothing of the partner on the page
  seen.text_after_signout = await page.evaluate(() => document.body.innerText);
}

(async () => {
  const browser = await launch();
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
    seen.logo_loaded = await page.evaluate(() => {
      const img = document.getElementById("logo");
      return img.complete && img.naturalWidth > 0;
    });
    seen.logo_visible = await page.isVisible("#logo");
    seen.h2_colour = await page.evaluate(() => getComputedStyle(document.querySelector("section h2")).color);
    seen.signin_visible = await page.isVisible("#signin");
    seen.app_visible_before_key = await page.isVisible("#app");
    if (process.env.PARTNER_ONLY) {
      await partnerOnly(page, seen);
      return;
    }
    if (!process.env.PORTAL_KEY) {
      await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
      return;
    }
    if (process.env.FINANCE_KEY) {  // a finance key: the channel-ops approval is listed, without buttons for it
      const financePage = await (await browser.newContext()).newPage();
      await financePage.goto(process.env.PORTAL_URL, { waitUntil: "load" });
      await financePage.fill("#key", process.env.FINANCE_KEY);
      await financePage.click("#signin-form button[type=submit]");
      await financePage.waitForSelector("body[data-loaded=true]", { timeout: 20000 });
      const row = `#approvals tr:has(span[title="${process.env.APPROVAL_ID}"])`;
      seen.finance_who = await financePage.textContent("#who");
      seen.finance_sees_row = (await financePage.$(row)) !== null;
      seen.finance_buttons = await financePage.$$eval(`${row} button`, (b) => b.length);
    }
    // another tenant's key is refused on the page, before any call, and the page stays signed out
    await page.fill("#key", "rgk.another-tenant.key_01ABCDEFGHJKMNPQRSTVWXYZ00.secret");
    await page.click("#signin-form button[type=submit]");
    seen.foreign_key_status = await page.textContent("#status");
    seen.app_visible_after_foreign_key = await page.isVisible("#app");
    await page.fill("#key", process.env.PORTAL_KEY);
    await page.click("#signin-form button[type=submit]");
    await page.waitForSelector("body[data-loaded=true]", { timeout: 20000 });
    seen.key_in_session_storage = await page.evaluate(() => Object.keys(sessionStorage).some((k) => k.endsWith(".key")));
    seen.who = await page.textContent("#who");
    seen.kpi_cards = await page.$$eval("#kpi-cards .card", (cards) => cards.map((c) => c.textContent));
    seen.charts = await page.$$eval("main svg", (svgs) => svgs.length);
    const approve = `button[data-approval="${process.env.APPROVAL_ID}"][data-action="approve"]`;
    await page.waitForSelector(approve, { timeout: 10000 });
    seen.approval_row = await page.$eval(`#approvals tr:has(${approve})`, (tr) => [...tr.cells].map((c) => c.textContent));
    await page.fill(`input[aria-label="note for ${process.env.APPROVAL_ID}"]`, "approved from the portal");
    await page.click(approve);
    await page.waitForFunction(
      (id) => document.getElementById("status").textContent.includes(id + " approved"), process.env.APPROVAL_ID,
      { timeout: 10000 });
    seen.status = await page.textContent("#status");
    seen.approval_row_gone = (await page.$(approve)) === null;
    seen.copilot_notice_before = await page.textContent("#copilot-notice");
    await page.fill("#question", "What is the margin floor on a quote line?");
    const asked = page.waitForResponse((r) => r.url().includes("/v1/copilot/ask"), { timeout: 30000 });
    await page.click("#copilot-form button[type=submit]");
    seen.copilot_reply_notice = (await (await asked).json().catch(() => ({}))).notice || null;
    await page.waitForFunction(() => !document.getElementById("answer").textContent.startsWith("Searching"),
      null, { timeout: 30000 });
    seen.copilot_answer = (await page.textContent("#answer")).slice(0, 300);
    seen.copilot_notice_after = await page.textContent("#copilot-notice");
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
      seen.partner_sections = await partnerPage.$$eval("section.partner", (ss) =>
        ss.filter((s) => !s.classList.contains("hidden")).map((s) => s.id));
      seen.partner_entitlements = await partnerPage.$$eval("#partner-entitlements tr", (rows) =>
        rows.slice(1).map((r) => [...r.cells].map((c) => c.textContent)));
      await partnerPage.screenshot({ path: process.env.SCREENSHOT.replace(/\.png$/, "-partner.png"), fullPage: true });
    }
  } finally {
    await browser.close();
    console.log(JSON.stringify(seen));
  }
})().catch((error) => { console.error(error); process.exit(1); });
