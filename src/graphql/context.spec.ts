import type { UserRepo } from "../core/ports";
import { lazyRequestHelpers } from "./context";

/** Counts the loaders made, by the one query each would send. */
function usersRepo() {
  const calls: string[][] = [];
  const repo = { findByIds: async (ids: readonly string[]) => (calls.push([...ids]), []) } as unknown as UserRepo;
  return { repo, calls };
}

describe("lazyRequestHelpers", () => {
  it("makes users and memo when first read, then keeps them on that context", async () => {
    const { repo, calls } = usersRepo();
    const ctx = Object.create(lazyRequestHelpers(repo)) as ReturnType<typeof lazyRequestHelpers>;
    expect(Object.keys(ctx)).toEqual([]);
    const loader = ctx.users;
    expect(ctx.users).toBe(loader);
    expect(ctx.memo).toBe(ctx.memo);
    expect(Object.keys(ctx).sort()).toEqual(["memo", "users"]);
    // One loader per context: two loads in one tick are one query.
    await Promise.all([ctx.users.load("a"), ctx.users.load("b")]);
    expect(calls).toEqual([["a", "b"]]);
  });

  it("never shares them between contexts, also a copy made with Object.assign (as Apollo copies one)", async () => {
    const { repo } = usersRepo();
    const proto = lazyRequestHelpers(repo);
    const a = Object.create(proto) as ReturnType<typeof lazyRequestHelpers>;
    const copy = Object.assign(Object.create(proto) as ReturnType<typeof lazyRequestHelpers>, a);
    const b = Object.create(proto) as ReturnType<typeof lazyRequestHelpers>;
    expect(a.users).not.toBe(b.users);
    expect(copy.users).not.toBe(a.users);
    let computed = 0;
    await a.memo("k", async () => ++computed);
    await a.memo("k", async () => ++computed);
    await b.memo("k", async () => ++computed);
    expect(computed).toBe(2);
  });

  it("a context copied after a read (as Apollo may copy one) keeps what was read, and copying does not throw", () => {
    const { repo } = usersRepo();
    const proto = lazyRequestHelpers(repo);
    const a = Object.create(proto) as ReturnType<typeof lazyRequestHelpers>;
    const loader = a.users;
    const copy = Object.assign(Object.create(proto) as ReturnType<typeof lazyRequestHelpers>, a);
    expect(copy.users).toBe(loader);
  });

  it("is never made on the shared prototype itself (it would be every request's)", () => {
    const { repo } = usersRepo();
    const proto = lazyRequestHelpers(repo);
    expect(() => proto.users).toThrow("made per context");
    expect(() => Object.create(Object.freeze(Object.create(proto))).memo).not.toThrow();
  });
});
