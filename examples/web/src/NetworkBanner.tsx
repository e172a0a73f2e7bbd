import { useEffect } from "react";
import { trackedFetch, useReachable } from "./network";

/**
 * A calm, non-blocking banner while the gateway can't be reached. The screen underneath
 * stays as it is; a light probe notices when the server is back.
 */
export function NetworkBanner() {
  const reachable = useReachable();
  useEffect(() => {
    if (reachable) return;
    const timer = setInterval(() => void trackedFetch("/.well-known/jwks.json").catch(() => undefined), 5000);
    return () => clearInterval(timer);
  }, [reachable]);

  if (reachable) return null;
  return (
    <div className="banner" role="status" data-testid="network-banner">
      Can't reach the server. Check your connection; this message goes away once it's back.
    </div>
  );
}
