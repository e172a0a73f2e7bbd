import { randomUUID } from "node:crypto";
import { PrismaUserRepo } from "../../src/infra/db/user.repo";
import type { Sql } from "../../src/infra/db/sql";
import { createTestDatabase, type TestDatabase } from "../helpers/database";

/*
 * Reads by id that concurrent requests make at once share one query (every `me` reads its
 * user): the answers are each caller's own row, and never a cached one.
 */

let t: TestDatabase;
let statements: string[];
let repo: PrismaUserRepo;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.cleanup());
beforeEach(() => {
  statements = [];
  const counted: Sql = (text, params) => {
    statements.push(text);
    return t.db.sql(text, params);
  };
  repo = new PrismaUserRepo(t.db.prisma, counted);
});

const newUser = (tag: string) => t.db.prisma.user.create({ data: { email: `${tag}-${randomUUID()}@example.com`, emailVerified: true } });

describe("PrismaUserRepo reads by id, email and phone", () => {
  it("answers the reads asked in the same tick with one query, each caller its own user", async () => {
    const [a, b, c] = await Promise.all([newUser("a"), newUser("b"), newUser("c")]);
    const missing = randomUUID();
    const found = await Promise.all([repo.findById(a.id), repo.findById(b.id), repo.findById(missing), repo.findById("not-a-uuid"), repo.findById(c.id), repo.findById(a.id)]);
    expect(found.map((u) => u?.email ?? null)).toEqual([a.email, b.email, null, null, c.email, a.email]);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain("ANY(");
  });

  it("an id in upper case is the same id", async () => {
    const user = await newUser("upper");
    const [lower, upper] = await Promise.all([repo.findById(user.id), repo.findById(user.id.toUpperCase())]);
    expect([lower?.id, upper?.id]).toEqual([user.id, user.id]);
  });

  it("reads again on each call: a write the caller awaited is seen", async () => {
    const user = await newUser("fresh");
    expect((await repo.findById(user.id))?.emailVerified).toBe(true);
    await t.db.prisma.user.update({ where: { id: user.id }, data: { emailVerified: false } });
    expect((await repo.findById(user.id))?.emailVerified).toBe(false);
    await t.db.prisma.user.delete({ where: { id: user.id } });
    expect(await repo.findById(user.id)).toBeNull();
    expect(statements).toHaveLength(3);
  });

  it("reads by email and by phone asked at once: one query each", async () => {
    const phone = `+1202555${String(Date.now() % 10_000).padStart(4, "0")}`;
    const [a, b, p] = await Promise.all([newUser("mail-a"), newUser("mail-b"), t.db.prisma.user.create({ data: { phone, phoneVerified: true } })]);
    const found = await Promise.all([
      repo.findByEmail(a.email!),
      repo.findByPhone(phone),
      repo.findByEmail("nobody@example.com"),
      repo.findByEmail(b.email!),
      repo.findByPhone("+12025550000"),
    ]);
    expect(found.map((u) => u?.id ?? null)).toEqual([a.id, p.id, null, b.id, null]);
    expect(statements.map((s) => /WHERE (\w+)/.exec(s)?.[1]).sort()).toEqual(["email", "phone"]);
  });

  it("a lone read is the plain primary-key query", async () => {
    const user = await newUser("lone");
    expect((await repo.findById(user.id))?.id).toBe(user.id);
    expect(statements).toEqual([expect.stringContaining("WHERE id = $1::uuid")]);
  });
});
