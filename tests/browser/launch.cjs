// The headless Chromium every browser check drives (Debian's /usr/bin/chromium, or CHROMIUM), through playwright-core.
const { chromium } = require("playwright-core");

const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync"];

function launch(extraArgs = []) {
  return chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
                           args: [...ARGS, ...extraArgs] });
}

module.exports = { launch };
