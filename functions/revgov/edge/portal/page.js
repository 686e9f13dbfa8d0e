"use strict";
// The prelude of every branded page (the portal, the operations view): `branded_page` inlines it before the page's
// own script, so both run as one script under one CSP hash. It holds what the pages share: their config (inert JSON),
// DOM helpers that put values from the API on the page as text only (never as HTML), the API key kept in this tab's
// sessionStorage, and calls to the API that send the key only in the Authorization header.
const revgovPage = (configId, storagePrefix) => {
  const config = JSON.parse(document.getElementById(configId).textContent);
  const storageKey = storagePrefix + config.tenant_id + ".key";
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, String(v)));
    if (text !== undefined) node.textContent = String(text);
    return node;
  }
  function status(message, isError) {
    $("status").textContent = message || "";
    $("status").className = isError ? "error" : "";
  }
  const key = () => sessionStorage.getItem(storageKey);
  const remember = (value) => sessionStorage.setItem(storageKey, value);
  const forget = () => sessionStorage.removeItem(storageKey);
  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + key() };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(config.api_base + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit",
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      // the problem's detail, and which field was wrong and why when the API says (`errors`: path and message)
      const fields = ((data && data.errors) || []).map((e) => (e.path || "").replace(/^\//, "") + ": " + e.message);
      const error = new Error(((data && (data.detail || data.title)) || response.statusText) +
        (fields.length ? " (" + fields.join("; ") + ")" : ""));
      error.status = response.status;
      throw error;
    }
    return data;
  }
  // Every item of a list, page by page along the API's `next_cursor` (API.md: `?limit=` at most 200, `?cursor=`), so
  // a list longer than one page is shown whole; at most `maxPages` pages (25: 5,000 items at limit=200), `more` true
  // when the list went on past them.
  async function list(path, maxPages) {
    const items = [];
    let cursor = null;
    for (let n = 0; n < (maxPages || 25); n++) {
      const page = await api("GET", cursor ? path + (path.includes("?") ? "&" : "?") + "cursor=" +
        encodeURIComponent(cursor) : path);
      items.push(...(page.items || []));
      cursor = page.next_cursor;
      if (!cursor) return { items, more: false };
    }
    return { items, more: true };
  }
  // The sign-in flow both pages share: the key form, sign-out, and a key kept from earlier in this tab. `load` fills
  // the page; `check(value)` says why a key cannot be used here (nothing when it can); `clear` empties what the page
  // showed, so nothing of one key's data stays for the next.
  function session({ load, check, clear }) {
    function signOut() {
      forget();
      if (clear) clear();
      $("app").classList.add("hidden");
      $("signout").classList.add("hidden");
      $("signin").classList.remove("hidden");
    }
    function signedIn() {
      $("signin").classList.add("hidden");
      $("app").classList.remove("hidden");
      $("signout").classList.remove("hidden");
      load().catch((error) => {
        status(error.status === 401 || error.status === 403 ? "This key is not accepted here: " + error.message : error.message, true);
        if (error.status === 401) signOut();
      });
    }
    $("signin-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const value = $("key").value.trim();
      $("key").value = "";
      const refused = check ? check(value) : null;
      if (refused) {
        status(refused, true);
        return;
      }
      if (!value) return;
      remember(value);
      signedIn();
    });
    $("signout").addEventListener("click", signOut);
    if (key()) signedIn();
  }
  // The AI notice an answer carries (`notice {text, clause, document, ...}` of POST /v1/copilot/ask since API 1.58.0:
  // the tenant's PA-14.1 / CPA-14.1 clause, verbatim) as the page says it, with its clause; `fallback` (the page's
  // own words) while there is no answer yet or one without a notice.
  function noticeText(notice, fallback) {
    if (!notice || typeof notice.text !== "string" || !notice.text.trim()) return fallback;
    const clause = typeof notice.clause === "string" && notice.clause ? " (" + notice.clause + ")" : "";
    return notice.text.trim() + clause;
  }
  return { config, $, el, svg, status, key, remember, forget, api, list, session, noticeText };
};
