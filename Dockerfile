# The gateway as one image: `docker compose up` runs it with Postgres, Redis and Mailpit.
# Node 24 LTS. Dependencies are installed before the sources are copied, so a change to
# src/ reuses the cached `npm ci` layers.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY examples/web/package.json ./examples/web/
COPY prisma ./prisma
# postinstall runs `prisma generate` (the client is generated into src/infra/db/generated).
# The example app's packages (a workspace) are not needed here.
RUN npm ci --no-audit --no-fund --workspaces=false
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# Production packages only. npm keeps the Prisma CLI and TypeScript (optional peers of
# @prisma/client) and PGlite (the embedded default, refused in production): none is
# loaded at run time, so they are removed.
FROM node:24-bookworm-slim AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY examples/web/package.json ./examples/web/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspaces=false \
 && rm -rf node_modules/prisma node_modules/typescript node_modules/effect \
      node_modules/@electric-sql node_modules/pglite-prisma-adapter \
      node_modules/@prisma/studio-core node_modules/@prisma/dev node_modules/@prisma/engines \
      node_modules/@prisma/engines-version node_modules/@prisma/fetch-engine \
      node_modules/@prisma/get-platform node_modules/@prisma/config node_modules/@prisma/streams-local \
      node_modules/react node_modules/react-dom \
 && npm cache clean --force

FROM node:24-bookworm-slim
# Inside a container the gateway must answer on every interface (the default is 127.0.0.1).
ENV NODE_ENV=production PORT=4000 HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=runtime-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Migrations are applied by the gateway at start, under an advisory lock.
COPY --from=build /app/prisma ./prisma
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
