import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type DocumentNode } from "graphql";

export interface GqlResult<T> {
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

export type GqlReply<T> = GqlResult<T> & { status: number; headers: Headers };

export interface GqlOptions {
  /** Sent as `Authorization: Bearer …`. */
  token?: string;
  headers?: Record<string, string>;
}

/** One operation POSTed to `${baseUrl}/graphql` as a client sends it; the reply with its status and headers. */
export async function postGraphql<TData, TVars>(
  baseUrl: string,
  doc: TypedDocumentNode<TData, TVars> | DocumentNode | string,
  variables?: TVars,
  opts: GqlOptions = {},
): Promise<GqlReply<TData>> {
  const query = typeof doc === "string" ? doc : print(doc as DocumentNode);
  const res = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(opts.token && { authorization: `Bearer ${opts.token}` }),
      ...opts.headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as GqlResult<TData>;
  return { ...body, status: res.status, headers: res.headers };
}
