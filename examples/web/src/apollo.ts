import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { ErrorLink } from "@apollo/client/link/error";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { createClient } from "graphql-ws";
import { from, of, switchMap, tap, throwError } from "rxjs";
import { errorCode } from "./errors";
import { setReachable, trackedFetch } from "./network";
import { COOKIE_DELIVERY_HEADERS, endSession, getAccessToken, RefreshRejected, renewAfterRejection } from "./session";

/*
 * One Apollo Client for the app. The app talks to its own origin only: /graphql over
 * HTTP, and ws(s)://<this host>/graphql for subscriptions. In development and preview
 * Vite proxies both to the gateway; in production put both behind the same host.
 */

const bearer = (token: string | null) => (token ? `Bearer ${token}` : undefined);

/** Subscriptions (the magic-link status) over graphql-ws, connected only while needed. */
const wsClient = createClient({
  url: `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/graphql`,
  lazy: true,
  connectionParams: () => ({ authorization: bearer(getAccessToken()) }),
  on: {
    connected: () => setReachable(true),
    // 1000 is a normal close (idle, or the page going away); anything else is trouble.
    closed: (event) => {
      if ((event as CloseEvent | undefined)?.code !== 1000) setReachable(false);
    },
  },
});

/** Every HTTP request: the access token, and "keep my refresh token in a cookie". */
const headersLink = new SetContextLink((previous) => {
  const authorization = bearer(getAccessToken());
  return { headers: { ...previous.headers, ...COOKIE_DELIVERY_HEADERS, ...(authorization && { authorization }) } };
});

/**
 * A request refused with UNAUTHENTICATED while signed in (the access token expired, or
 * the session was revoked): refresh once and retry once. When that fails too, the session
 * is over and the app goes back to the sign-in screen with a notice.
 */
const renewLink = new ErrorLink(({ error, result, operation, forward }) => {
  const usedAuthorization: unknown = operation.getContext().headers?.authorization;
  if (typeof usedAuthorization !== "string" || errorCode(error) !== "UNAUTHENTICATED" || operation.getContext().retried) return;
  // A single-use challenge (passkeys) was spent by this try: a retry would be refused too, and end the session for nothing.
  if (operation.getContext().singleUse) return;
  operation.setContext({ retried: true });
  const renewed = renewAfterRejection(usedAuthorization.replace(/^Bearer /, "")).then(
    () => true,
    (refreshError: unknown) => {
      if (refreshError instanceof RefreshRejected) endSession();
      return false;
    },
  );
  const retry = forward(operation).pipe(
    tap((retried) => {
      if (errorCode(retried.errors) === "UNAUTHENTICATED") endSession();
    }),
  );
  // Not renewed (refused, or offline): hand back the original answer.
  return from(renewed).pipe(switchMap((ok) => (ok ? retry : result ? of(result) : throwError(() => error))));
});

const httpLink = new HttpLink({ uri: "/graphql", credentials: "same-origin", fetch: trackedFetch });

export const client = new ApolloClient({
  link: ApolloLink.split(
    (operation) => operation.operationType === "subscription",
    new GraphQLWsLink(wsClient),
    ApolloLink.from([renewLink, headersLink, httpLink]),
  ),
  cache: new InMemoryCache(),
});
