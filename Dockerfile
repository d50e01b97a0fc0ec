# One image for every promstore mode; docker-compose.yml picks the mode with `command`.
# Build: docker build -t promstore .    Run: docker run promstore all --data-dir=/data

FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles its native addon when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
# Then collect runtime assets tsc does not emit (.proto, .sql) at their source paths: proto/index.ts
# finds proto/ by walking up from dist/proto/.
RUN npm run build \
 && npm prune --omit=dev \
 && mkdir /assets \
 && find proto storage -type f \( -name '*.proto' -o -name '*.sql' \) -exec cp --parents {} /assets/ \;

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /assets/ ./
# A new named volume mounted at /data inherits this ownership, so the non-root user can write it.
RUN mkdir /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 9009 9095
ENTRYPOINT ["node", "dist/bin/promstore.js"]
CMD ["all", "--data-dir=/data"]
