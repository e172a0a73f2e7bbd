import { useEffect, useState } from "react";
import { useReachable } from "./network";

/** A message the gateway's development outbox kept instead of sending it (GET /dev/outbox). */
type OutboxEntry = { id: string; sentAt: string; channel: string; to: string; subject?: string | null; text: string };

/**
 * Development only: the emails and texts the gateway would have sent, so you can sign in
 * without a mail server. Shown only when the gateway serves /dev/outbox (never in
 * production, nor with real SMTP/Twilio), whatever build of this app is running.
 */
export function DevOutbox() {
  const [available, setAvailable] = useState(false);
  const [open, setOpen] = useState(false);
  const [messages, setMessages] = useState<OutboxEntry[]>([]);
  const reachable = useReachable();

  useEffect(() => {
    if (!reachable || (available && !open)) return;
    let cancelled = false;
    const load = async () => {
      try {
        const response = await fetch("/dev/outbox", { headers: { Accept: "application/json" } });
        const json = response.ok && (response.headers.get("content-type")?.includes("json") ?? false);
        if (cancelled) return;
        setAvailable(json);
        if (json) setMessages(((await response.json()) as OutboxEntry[]).slice(0, 20));
      } catch {
        // Offline: the network banner says so.
      }
    };
    void load();
    // Refreshed every 2 s while open.
    const timer = open ? setInterval(load, 2000) : undefined;
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [reachable, available, open]);

  if (!available) return null;
  return (
    <details className="outbox" open={open} onToggle={(event) => setOpen(event.currentTarget.open)}>
      <summary>Dev outbox</summary>
      {messages.length === 0 && <p className="muted">Nothing sent yet.</p>}
      <ol data-testid="outbox">
        {messages.map((m) => (
          <li key={m.id} data-testid="outbox-message">
            <div className="muted">
              {m.channel} to <strong>{m.to}</strong> · {new Date(m.sentAt).toLocaleTimeString()}
            </div>
            {m.subject && <div className="subject">{m.subject}</div>}
            <pre>{linkify(m.text)}</pre>
          </li>
        ))}
      </ol>
    </details>
  );
}

/** Text with its URLs as links (a magic link opens in a new tab). */
function linkify(text: string) {
  return text.split(/(https?:\/\/\S+)/g).map((part, i) =>
    i % 2 === 1 ? (
      <a key={i} href={part} target="_blank" rel="noreferrer">
        {part}
      </a>
    ) : (
      part
    ),
  );
}
