import { InMemoryLRUCache } from "@apollo/utils.keyvaluecache";
import { parse, specifiedRules, validate, type DocumentNode, type GraphQLError, type GraphQLSchema, type Source, type ValidationRule } from "graphql";

export interface DocumentCache {
  /** Throws graphql-js's syntax error, also past `maxTokens`. */
  parse(source: string | Source): DocumentNode;
  validate(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[];
  /** What is kept: texts and their total length in characters. */
  size(): { entries: number; characters: number };
}

export interface DocumentCacheOptions {
  /** Run after graphql-js's own rules (the same limits as over HTTP). */
  extraRules?: readonly ValidationRule[];
  /** Parsing stops past this many tokens (graphql-js `maxTokens`). */
  maxTokens?: number;
  maxEntries?: number;
  maxSourceLength?: number;
  /** All kept texts together: an AST costs about 90 bytes of heap per character of text. */
  maxTotalLength?: number;
}

/**
 * Parsed and validated documents shared by every operation with the same text. graphql-ws
 * parses each `subscribe` message anew, so thousands of devices waiting on the same
 * magic-link subscription would each hold their own copy of one small AST (most of a
 * waiting subscription's memory). Apollo Server does the same for HTTP in its document store.
 * Bounded: at most `maxEntries` texts of at most `maxSourceLength` characters and
 * `maxTotalLength` in all (64 Ki characters: about 6 MB of ASTs), least recently used first
 * out; longer texts are parsed each time and never kept.
 */
export function documentCache(options: DocumentCacheOptions = {}): DocumentCache {
  const { extraRules = [], maxTokens, maxEntries = 200, maxSourceLength = 4096, maxTotalLength = 64 * 1024 } = options;
  const rules = [...specifiedRules, ...extraRules];
  const parseOptions = maxTokens === undefined ? undefined : { maxTokens };
  const documents = new Map<string, DocumentNode>();
  let characters = 0;
  const validated = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, readonly GraphQLError[]>>();
  return {
    parse(source) {
      if (typeof source !== "string" || source.length > maxSourceLength) return parse(source, parseOptions);
      const cached = documents.get(source);
      if (cached) {
        // A Map keeps insertion order: re-inserting marks it most recently used.
        documents.delete(source);
        documents.set(source, cached);
        return cached;
      }
      const document = parse(source, parseOptions);
      documents.set(source, document);
      characters += source.length;
      while (documents.size > maxEntries || characters > maxTotalLength) {
        const oldest = documents.keys().next().value!;
        documents.delete(oldest);
        characters -= oldest.length;
      }
      return document;
    },
    validate(schema, document) {
      let bySchema = validated.get(schema);
      if (!bySchema) validated.set(schema, (bySchema = new WeakMap()));
      let errors = bySchema.get(document);
      if (!errors) bySchema.set(document, (errors = validate(schema, document, rules)));
      return errors;
    },
    size: () => ({ entries: documents.size, characters }),
  };
}

/**
 * Apollo's store of parsed and validated documents for HTTP, keyed by the query's hash.
 * Its default holds 30 MiB as measured (the documents' JSON), but an AST with its token list
 * costs about 4 times its JSON in heap: an anonymous client sending distinct valid queries
 * grew the process by ~400 MB. 4 MiB keeps hundreds of real operations in ~16 MB of heap.
 */
export const HTTP_DOCUMENT_STORE_MAX_BYTES = 4 * 1024 * 1024;

export function httpDocumentStore(maxSize = HTTP_DOCUMENT_STORE_MAX_BYTES): InMemoryLRUCache<DocumentNode> {
  return new InMemoryLRUCache<DocumentNode>({ maxSize });
}

/**
 * Query texts registered by automatic persisted queries (APQ): any client may register
 * any valid query, so these are bounded too (Apollo's default shares the 30 MiB server cache).
 */
export const HTTP_PERSISTED_QUERY_STORE_MAX_CHARACTERS = 2 * 1024 * 1024;

export function httpPersistedQueryStore(maxSize = HTTP_PERSISTED_QUERY_STORE_MAX_CHARACTERS): InMemoryLRUCache<string> {
  return new InMemoryLRUCache<string>({ maxSize });
}
