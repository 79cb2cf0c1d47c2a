# syntax=docker/dockerfile:1
# One image for every MetricStream service and the operator: `metricstream <command>` (ingestion, queue, storage,
# query, alerting, operator). Build: docker build -t metricstream:0.1.0 .

FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY services ./services
COPY operator ./operator
COPY bench ./bench
COPY scripts ./scripts
RUN npx tsc -p tsconfig.json \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /src/package.json ./package.json
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist ./dist
# Non-root, with nothing writable in the image: data goes to mounted volumes (/data) and /tmp.
RUN groupadd --system --gid 10001 metricstream \
  && useradd --system --uid 10001 --gid metricstream --no-create-home --shell /usr/sbin/nologin metricstream \
  && mkdir -p /data && chown metricstream:metricstream /data
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080 8081 8082 8083 8084 8085
ENTRYPOINT ["node", "/app/dist/services/cli/metricstream.js"]
CMD ["--help"]
