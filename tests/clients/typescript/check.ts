// Calls the running Revgov with a client generated from its OpenAPI: types from openapi-typescript (schema.d.ts,
// generated next to this file by the test), requests by openapi-fetch. It must type-check under `strict` (so no
// operation or schema is missing) and every call must succeed. Input (env): API_BASE, ADMIN_KEY, TENANT_ID,
// WEBHOOK_SECRET, ERP_EVENT (JSON), SIGNED_AT (unix seconds on Revgov's clock, which need not be this machine's:
// REVGOV_CLOCK_START). Output: one JSON line with what it saw.
import { createHmac } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Me = components["schemas"]["api_responses_me"];
type ErpEvent = components["schemas"]["events_erp_event"];

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const client = createClient<paths>({ baseUrl: env("API_BASE") });
const auth = { headers: { Authorization: `Bearer ${env("ADMIN_KEY")}` } };

const health = await client.GET("/v1/health");
const me = await client.GET("/v1/me", auth);
const who: Me | undefined = me.data;
const minted = await client.POST("/v1/keys", { ...auth, body: { role: "finance", label: "typescript client" } });
const keys = await client.GET("/v1/keys", { ...auth, params: { query: { limit: 10 } } });

const event: ErpEvent = JSON.parse(env("ERP_EVENT")) as ErpEvent;
const raw = JSON.stringify(event);
const stamp = Number(env("SIGNED_AT"));
const v1 = createHmac("sha256", env("WEBHOOK_SECRET")).update(`${stamp}.${raw}`).digest("hex");
const received = await client.POST("/v1/webhooks/erp", {
  body: event,
  bodySerializer: () => raw, // the signed bytes are the bytes sent
  params: { header: { "Revgov-Tenant": env("TENANT_ID"), "Revgov-Signature": `t=${stamp},v1=${v1}` } },
});
const unsigned = await client.POST("/v1/webhooks/erp", {
  body: event,
  params: { header: { "Revgov-Tenant": env("TENANT_ID"), "Revgov-Signature": `t=${stamp},v1=${"0".repeat(64)}` } },
});

console.log(JSON.stringify({
  health: health.response.status,
  me: { status: me.response.status, tenant_id: who?.tenant_id, role: who?.role },
  minted: minted.response.status,
  keys: { status: keys.response.status, count: keys.data?.items.length },
  received: { status: received.response.status, body: received.data },
  unsigned: { status: unsigned.response.status, problem_status: unsigned.error?.status },
}));
