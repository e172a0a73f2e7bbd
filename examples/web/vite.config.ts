import react from "@vitejs/plugin-react";
import { defineConfig, type ProxyOptions } from "vite";

/*
 * The app only ever talks to its own origin; the dev server and `vite preview` forward
 * the gateway's paths to it. The browser's Origin header is passed through untouched (the
 * gateway checks it against ALLOWED_ORIGINS); only Host is rewritten.
 *
 *   GATEWAY_URL  where the gateway listens (default http://127.0.0.1:$PORT, its HOST, PORT being
 *                the gateway's own setting, 4000 unless set)
 *   WEB_PORT     this app's port (default 5173 for dev, 4173 for preview)
 */
const gateway = process.env.GATEWAY_URL ?? `http://127.0.0.1:${process.env.PORT ?? 4000}`;
const port = process.env.WEB_PORT ? Number(process.env.WEB_PORT) : undefined;

const proxy: Record<string, ProxyOptions> = {
  "/graphql": { target: gateway, changeOrigin: true, ws: true },
  "/dev/outbox": { target: gateway, changeOrigin: true },
  "/.well-known": { target: gateway, changeOrigin: true },
};

export default defineConfig({
  plugins: [react()],
  server: { port: port ?? 5173, strictPort: true, proxy },
  preview: { port: port ?? 4173, strictPort: true, proxy },
});
