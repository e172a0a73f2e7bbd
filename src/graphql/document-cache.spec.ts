import { buildSchema, GraphQLError, type ValidationRule } from "graphql";
import { documentCache } from "./document-cache";

const schema = buildSchema("type Query { a: Int b: Int }");

describe("documentCache", () => {
  it("hands out one parsed document per text, so repeated operations share it", () => {
    const cache = documentCache();
    const first = cache.parse("{ a }");
    expect(cache.parse("{ a }")).toBe(first);
    expect(cache.parse("{ b }")).not.toBe(first);
  });

  it("forgets the least recently used text beyond its size, and never keeps long texts", () => {
    const cache = documentCache({ maxEntries: 2, maxSourceLength: 20 });
    const a = cache.parse("{ a }");
    const b = cache.parse("{ b }");
    expect(cache.parse("{ a }")).toBe(a); // a is now the most recent
    cache.parse("{ a b }"); // evicts b
    expect(cache.parse("{ a }")).toBe(a);
    expect(cache.parse("{ b }")).not.toBe(b);
    const long = `{ ${"a ".repeat(20)}}`;
    expect(cache.parse(long)).not.toBe(cache.parse(long));
  });

  it("does not keep what fails to parse", () => {
    const cache = documentCache();
    expect(() => cache.parse("{ a")).toThrow(GraphQLError);
    expect(() => cache.parse("{ a")).toThrow(GraphQLError);
  });

  it("validates once per document, with graphql-js's rules and the extra ones", () => {
    let runs = 0;
    const noB: ValidationRule = (context) => {
      runs++;
      return { Field: (node) => void (node.name.value === "b" && context.reportError(new GraphQLError("no b"))) };
    };
    const cache = documentCache({ extraRules: [noB] });
    const ok = cache.parse("{ a }");
    expect(cache.validate(schema, ok)).toEqual([]);
    expect(cache.validate(schema, ok)).toEqual([]);
    expect(runs).toBe(1);
    expect(cache.validate(schema, cache.parse("{ b }")).map((e) => e.message)).toEqual(["no b"]);
    expect(cache.validate(schema, cache.parse("{ c }")).map((e) => e.message)).toEqual([expect.stringMatching(/^Cannot query field "c" on type "Query"/)]);
  });

  it("stops parsing past maxTokens", () => {
    const cache = documentCache({ maxTokens: 10 });
    expect(() => cache.parse(`{ ${"a ".repeat(20)}}`)).toThrow(/Document contains more th\w+ 10 tokens/);
  });


});
