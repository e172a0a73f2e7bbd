import { Component, type ErrorInfo, type ReactNode } from "react";

/** Last line of defence: an unexpected error shows a friendly page, never a blank one. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  componentDidCatch(error: Error, info: ErrorInfo) {
    console.error(error, info.componentStack);
  }

  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <main className="page">
        <section>
          <h1>Something went wrong</h1>
          <p role="alert" className="alert">
            The page ran into a problem it couldn't recover from. Reloading usually fixes it.
          </p>
          <button type="button" onClick={() => location.reload()}>
            Reload
          </button>
        </section>
      </main>
    );
  }
}
