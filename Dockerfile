# The application image: the worker, the API and the migration all run from it
# (see docker-compose.yml), each with its own command.
FROM node:20.20.2-slim

WORKDIR /app

# Dependencies and the generated Prisma client first, so that this layer is
# rebuilt only when the lock file or the schema changes. scripts/setup.sh is
# what `npm start` and `npm test` run too: npm ci, then prisma generate. The
# devDependencies (the Prisma CLI that generate needs, TypeScript, Jest, ...)
# then go: the image runs the worker, the API and the migration, with tsx.
# --omit=dev keeps prisma and typescript (about 250 MB with their own
# dependencies), because @prisma/client names them as optional peers and npm
# keeps an optional peer that is installed; `uninstall --no-save` drops them
# without touching package.json or the lock.
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
COPY lib/config.ts ./lib/config.ts
COPY scripts/setup.sh ./scripts/setup.sh
RUN bash scripts/setup.sh \
  && npm prune --omit=dev \
  && npm uninstall --no-save --omit=dev prisma typescript \
  && npm cache clean --force

COPY . .

ENV NODE_ENV=production
# The API's port; the worker listens on nothing.
EXPOSE 3000
CMD ["npx", "tsx", "api/server.ts"]
