# The application image: the worker, the API and the migration all run from it
# (see docker-compose.yml), each with its own command.

# --- build: the generated Prisma client ----------------------------------------
# The Prisma CLI that generates the client is a devDependency, so it runs here
# and only the client it writes goes into the image. scripts/setup.sh is what
# `npm start` and `npm test` run too; after the npm ci above it, it only
# generates. prisma.config.ts reads DATABASE_URL through lib/config.ts, hence lib/.
FROM node:20.20.2-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install script is needed (see scripts/setup.sh).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY prisma.config.ts ./
COPY prisma ./prisma
COPY lib ./lib
COPY scripts/setup.sh ./scripts/setup.sh
RUN bash scripts/setup.sh
# The web app, bundled with esbuild and Preact (devDependencies): only the
# static files it builds go into the image.
COPY scripts/build-web.ts ./scripts/build-web.ts
COPY workflows/checkout-types.ts ./workflows/checkout-types.ts
COPY web ./web
RUN npx tsx scripts/build-web.ts

# --- the image -----------------------------------------------------------------
FROM node:20.20.2-slim
WORKDIR /app
ENV NODE_ENV=production
# Production dependencies only. tsx, which runs the TypeScript, is one of them
# (package.json "dependencies"), and so must stay while the image runs .ts files.
# --omit=dev keeps prisma and typescript (about 250 MB with their own
# dependencies), because @prisma/client names them as optional peers and npm
# keeps an optional peer that is installed (npm/cli#7772); `uninstall
# --no-save` drops them without touching package.json or the lock.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm uninstall --no-save --omit=dev prisma typescript \
  && npm cache clean --force
COPY --from=build /app/generated ./generated
COPY --from=build /app/web/dist ./web/dist
# What .dockerignore lets through: the app, the migrations and the two scripts
# the migrate service runs; no tests or other tooling.
COPY . .

# The code stays root's, read-only to the process that runs it.
USER node
# The API's port; the worker listens on nothing.
EXPOSE 3000
CMD ["npx", "tsx", "api/server.ts"]
