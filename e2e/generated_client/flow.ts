// A service account's life driven through a client generated from the served OpenAPI
// document (openapi-typescript types, openapi-fetch calls). Type-checked by tsc against
// the generated types before it runs: a field or route the document does not describe
// fails the build, and an answer the server gives differently fails the run.
//
// Needs KH_URL (the server) and KH_TOKEN (an admin secret); see run.sh.
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

// Just what is used of Node's globals, to do without @types/node.
declare const process: { env: Record<string, string | undefined>; exitCode?: number };

type ErrorBody = components["schemas"]["ErrorBody"];
type Code = components["schemas"]["Code"];

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${what}`);
}

/** A client that authenticates with `secret`. */
function clientFor(secret: string): Client<paths> {
  return createClient<paths>({
    baseUrl: env("KH_URL"),
    headers: { Authorization: `Bearer ${secret}` },
  });
}

/** The contract's error code of a failed call, read through the generated error model. */
function codeOf(error: ErrorBody | undefined): Code | undefined {
  return error?.error.code;
}

async function main(): Promise<void> {
  const admin = clientFor(env("KH_TOKEN"));
  const name = "ts-client";
  const group = "ts-readers";

  const created_group = await admin.POST("/api/v1/groups", {
    body: { name: group, roles: ["viewer"] },
  });
  check(created_group.response.status === 201, `create group: ${created_group.response.status}`);
  check(created_group.data?.name === group, "the group answers its name");

  const created = await admin.POST("/api/v1/service-accounts", {
    body: { name, display_name: "TS client", initial_secret: {} },
  });
  check(created.response.status === 201, `create account: ${created.response.status}`);
  check(
    created.response.headers.get("location") === `/api/v1/service-accounts/${name}`,
    `Location: ${created.response.headers.get("location")}`,
  );
  const first = created.data?.secret?.secret;
  check(typeof first === "string" && first.startsWith("kh_"), "a first secret");
  const firstId = created.data?.secret?.id;

  const me = await clientFor(first).GET("/api/v1/me");
  check(me.response.status === 200, `/me with the new secret: ${me.response.status}`);
  check(me.data?.name === name, `/me names ${me.data?.name}`);
  check(me.data?.authenticated_by.kind === "secret", "authenticated by its secret");

  const joined = await admin.PUT("/api/v1/service-accounts/{name}/groups", {
    params: { path: { name } },
    body: { add_to_groups: [group] },
  });
  check(joined.response.status === 200, `join group: ${joined.response.status}`);
  const groups = joined.data?.groups.map((g) => g.name) ?? [];
  check(groups.includes(group), `groups after the change: ${groups.join(",")}`);

  const rotated = await admin.POST("/api/v1/service-accounts/{name}/rotate-secret", {
    params: { path: { name } },
    body: { grace_period_seconds: 0, name: "rotated" },
  });
  check(rotated.response.status === 201, `rotate: ${rotated.response.status}`);
  const second = rotated.data?.secret;
  check(typeof second === "string" && second !== first, "a new secret");
  const stale = await clientFor(first).GET("/api/v1/me");
  check(codeOf(stale.error) === "UNAUTHENTICATED", `the old secret: ${stale.response.status}`);
  const fresh = await clientFor(second).GET("/api/v1/me");
  check(fresh.data?.name === name, "the new secret works");

  const listed = await admin.GET("/api/v1/service-accounts/{name}/credentials", {
    params: { path: { name } },
  });
  check(listed.response.status === 200, `list credentials: ${listed.response.status}`);
  const items = listed.data?.items ?? [];
  check(items.some((c) => c.id === rotated.data?.id && c.name === "rotated"), "the new credential is listed");
  const old = items.find((c) => c.id === firstId);
  check(old?.expired === true, "the rotated-out secret is listed as expired (no grace)");
  check(items.every((c) => !("secret" in c)), "no secret in a list");

  const deleted = await admin.DELETE("/api/v1/service-accounts/{name}", {
    params: { path: { name } },
  });
  check(deleted.response.status === 204, `delete: ${deleted.response.status}`);

  const gone = await admin.GET("/api/v1/service-accounts/{name}", {
    params: { path: { name } },
  });
  check(gone.response.status === 404, `read after delete: ${gone.response.status}`);
  check(gone.data === undefined, "no account in a 404");
  check(codeOf(gone.error) === "NOT_FOUND", `error.code: ${codeOf(gone.error)}`);
  check(typeof gone.error?.error.message === "string", "error.message");

  console.log("generated client: the account's whole life went as documented");
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
