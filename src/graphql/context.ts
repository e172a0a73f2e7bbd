import type { Logger } from "pino";
import type { ClientInfo } from "../core/ports";
import type { Principal } from "../sessions/session.service";

/** What every resolver gets: who is calling, from where, and a logger tied to the request. */
export interface GatewayContext {
  requestId: string;
  principal: Principal | null;
  client: ClientInfo;
  log: Logger;
}
