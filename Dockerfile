# The gateway as one image: `docker compose up` runs it with Postgres, Redis and Mailpit.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
# postinstall runs `prisma generate` (the client is generated into src/infra/db/generated).
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci --no-audit --no-fund \
 && npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=4000
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Migrations are applied by the gateway at start, under an advisory lock.
COPY --from=build /app/prisma ./prisma
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
