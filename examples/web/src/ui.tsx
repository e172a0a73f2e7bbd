import { useEffect, useId, useState, type FormEvent, type InputHTMLAttributes, type ReactNode } from "react";

/** Small building blocks shared by the screens. */

/** An error for the person, announced by screen readers. Renders nothing without one. */
export function Alert({ message }: { message: string | null | undefined }) {
  return message ? (
    <p role="alert" className="alert">
      {message}
    </p>
  ) : null;
}

type FieldProps = InputHTMLAttributes<HTMLInputElement> & { label: string; hint?: ReactNode };

/** A labelled input (the label names the input for assistive tech and for tests). */
export function Field({ label, hint, ...input }: FieldProps) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      {hint && (
        <small id={`${id}-hint`} className="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

/** The way back to the start, under a screen. */
export function BackToSignIn({ onBack }: { onBack: () => void }) {
  return (
    <p className="aside">
      <button type="button" className="link" onClick={onBack}>
        Back to sign in
      </button>
    </p>
  );
}

/** A form's submit button and its Cancel. */
export function SubmitOrCancel({ label, busy, onCancel, danger = false }: { label: string; busy: boolean; onCancel: () => void; danger?: boolean }) {
  return (
    <div className="actions">
      <button type="submit" className={danger ? "danger" : undefined} disabled={busy}>
        {label}
      </button>
      <button type="button" className="secondary" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

/** Props for a one-time code input: a digit keyboard, the right length, autofill from SMS/email. */
export function codeInput(length = 6): InputHTMLAttributes<HTMLInputElement> {
  return { inputMode: "numeric", autoComplete: "one-time-code", maxLength: length, required: true, className: "code" };
}

/** The current time, ticking every second while the component is mounted. */
export function useNow(): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** Simple tabs: role="tab" buttons; the caller renders the selected panel. */
export function Tabs<T extends string>({ label, tabs, selected, onSelect }: { label: string; tabs: Array<[T, string]>; selected: T; onSelect: (tab: T) => void }) {
  return (
    <div role="tablist" aria-label={label} className="tabs">
      {tabs.map(([value, text]) => (
        <button key={value} type="button" role="tab" aria-selected={value === selected} onClick={() => onSelect(value)}>
          {text}
        </button>
      ))}
    </div>
  );
}

/** For onSubmit: stops the browser's own submit and reads the form's inputs by name (trimmed, except passwords). */
export function formValues(event: FormEvent<HTMLFormElement>): Record<string, string> {
  event.preventDefault();
  const values: Record<string, string> = {};
  for (const input of event.currentTarget.querySelectorAll("input[name]")) {
    const { name, type, value } = input as HTMLInputElement;
    values[name] = type === "password" ? value : value.trim();
  }
  return values;
}

/** An async action started by a click (a passkey ceremony, say): busy while it runs, its error kept until the next try. */
export function useAction<A extends unknown[]>(action: (...args: A) => Promise<unknown>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = (...args: A) => {
    setBusy(true);
    setError(null);
    action(...args)
      .catch(setError)
      .finally(() => setBusy(false));
  };
  return { run, busy, error, reset: () => setError(null) };
}
