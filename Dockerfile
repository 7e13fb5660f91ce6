# Build stage: compile TypeScript and the native SQLite binding (better-sqlite3 builds from source).
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

# Runtime stage: production dependencies (already built) and the compiled code only, as a non-root user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 ODAS_CACHE_DIR=/var/cache/odas
WORKDIR /app
COPY package.json package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY collections ./collections
COPY openapi ./openapi
RUN ln -s /app/dist/cli.js /usr/local/bin/odas \
 && mkdir -p /data /var/cache/odas && chown node:node /var/cache/odas
USER node
EXPOSE 8080
VOLUME ["/data", "/var/cache/odas"]
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/?f=json').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["odas"]
CMD ["serve", "--data", "/data"]
