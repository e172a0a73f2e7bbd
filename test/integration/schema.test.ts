import fs from "node:fs";
import path from "node:path";
import { buildSchema, findBreakingChanges, isObjectType, type GraphQLSchema } from "graphql";
import { spawnSync } from "node:child_process";
import { toSubgraphSchema } from "../../src/federation/subgraph";
import { buildGatewaySchema } from "../../src/schema";
import { printGatewaySchema, SCHEMA_FILE } from "../../src/graphql/print-schema";

const root = path.resolve(__dirname, "../..");
// The shared contract lives beside the repository and is read-only to us; contract/ keeps an
// unchanged copy so that a clone elsewhere still checks against it. Our additions (e.g. the
// optional refreshTokens argument) live only in the served schema.graphql, never in the copy.
const sharedContract = path.resolve(root, "../shared/contract/schema.graphql");
const vendoredContract = path.join(root, "contract/schema.graphql");
const contractFile = fs.existsSync(sharedContract) ? sharedContract : vendoredContract;

let served: GraphQLSchema;
beforeAll(async () => {
  served = await buildGatewaySchema();
});

describe("the committed schema.graphql", () => {
  it("is what the code serves (run `npm run build` after changing a resolver)", () => {
    const committed = fs.readFileSync(path.join(root, SCHEMA_FILE), "utf8");
    expect(committed).toBe(printGatewaySchema(served));
  });
});

describe("the shared contract", () => {
  it("is kept in contract/ exactly as published", () => {
    expect(fs.readFileSync(vendoredContract, "utf8")).toBe(fs.readFileSync(contractFile, "utf8"));
  });

  it("has no breaking change against the served schema", () => {
    const contract = buildSchema(fs.readFileSync(contractFile, "utf8"));
    expect(findBreakingChanges(contract, served)).toEqual([]);
  });

  it("has no breaking change against the subgraph schema actually served (federation)", () => {
    const contract = buildSchema(fs.readFileSync(contractFile, "utf8"));
    const subgraph = toSubgraphSchema(served);
    expect(findBreakingChanges(contract, subgraph)).toEqual([]);
    expect(subgraph.getQueryType()!.getFields()).toHaveProperty("_entities");
  });

  it("has every contract field served", () => {
    const contract = buildSchema(fs.readFileSync(contractFile, "utf8"));
    const missing: string[] = [];
    for (const type of Object.values(contract.getTypeMap())) {
      if (type.name.startsWith("__") || !isObjectType(type)) continue;
      const mine = served.getType(type.name);
      for (const field of Object.keys(type.getFields())) {
        if (!mine || !isObjectType(mine) || !mine.getFields()[field]) missing.push(`${type.name}.${field}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe("codegen", () => {
  it("test/__generated__/graphql.ts is current (run `npm run codegen`)", () => {
    // The CLI's own staleness check; it runs as a separate process (it loads ES modules).
    const bin = path.join(root, "node_modules/@graphql-codegen/cli/cjs/bin.js");
    const run = spawnSync(process.execPath, [bin, "--config", "codegen.yml", "--check"], { cwd: root, encoding: "utf8" });
    expect(run.stdout + run.stderr).not.toMatch(/stale files/);
    expect(run.status).toBe(0);
  });

  it("examples/web/src/gql is current and the example app type-checks against it (run `npm run web:codegen`)", () => {
    const web = path.join(root, "examples/web");
    const bin = path.join(root, "node_modules/@graphql-codegen/cli/cjs/bin.js");
    const check = spawnSync(process.execPath, [bin, "--config", "codegen.yml", "--check"], { cwd: web, encoding: "utf8" });
    expect(check.stdout + check.stderr).not.toMatch(/stale files/);
    expect(check.status).toBe(0);
    const tsc = spawnSync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", web, "--noEmit"], { encoding: "utf8" });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
  });
});
