import fs from "node:fs";
import path from "node:path";

const src = path.resolve(__dirname, "../../src");

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "generated" ? [] : sourceFiles(full);
    return e.name.endsWith(".ts") ? [full] : [];
  });
}

const importsOf = (file: string) => [...fs.readFileSync(file, "utf8").matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]);

/**
 * Data flows one way: resolver → service → core ports ← infra. Sign-in methods, sessions
 * and core never reach for a driver or for infra/ themselves; main.ts wires infra in.
 */
describe("the layering", () => {
  const forbidden = [/^ioredis$/, /^@prisma\//, /^pg$/, /^@electric-sql\//, /^bullmq$/, /^nodemailer$/, /^twilio$/, /^prom-client$/, /\/infra\//];

  it.each(["methods", "sessions", "core", "users", "graphql", "config"])("src/%s imports no driver and nothing from infra/", (folder) => {
    const offenders = sourceFiles(path.join(src, folder)).flatMap((file) =>
      importsOf(file)
        .filter((spec) => forbidden.some((f) => f.test(spec)))
        .map((spec) => `${path.relative(src, file)} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it("methods do not import each other", () => {
    const methods = fs.readdirSync(path.join(src, "methods"), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    const offenders = methods.flatMap((m) =>
      sourceFiles(path.join(src, "methods", m)).flatMap((file) =>
        importsOf(file)
          .filter((spec) => methods.some((other) => other !== m && spec.includes(`../${other}/`)))
          .map((spec) => `${path.relative(src, file)} imports ${spec}`),
      ),
    );
    expect(offenders).toEqual([]);
  });
});
