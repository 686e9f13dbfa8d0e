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
  return { config, $, el, svg, status, key, remember, forget, api };
};
