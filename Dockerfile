# syntax=docker/dockerfile:1
# Build: compile TypeScript (tsconfig.build.json: no tests, no benches) and the native SQLite module,
# then keep only production dependencies.
# Base images are pinned by digest (the tag stays for readers; the digest is what is pulled).
# Update both with `docker buildx imagetools inspect <image:tag>` and review the change.
FROM node:20-bookworm@sha256:8f693eaa7e0a8e71560c9a82b55fd54c2ae920a2ba5d2cde28bac7d1c01c9ba5 AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY core core
COPY config config
COPY webhook webhook
COPY policies policies
COPY audit audit
COPY alerts alerts
COPY cli cli
COPY background background
COPY vap vap
COPY ui ui
COPY certs/*.ts certs/
COPY bin bin
COPY charts charts
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund

# Run: distroless Node.js, no shell, no package manager, no build tools; non-root (65532).
FROM gcr.io/distroless/nodejs20-debian12:nonroot@sha256:2cd820156cf039c8b54ae2d2a97e424b6729070714de8707a6b79f20d56f6a9a
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/dist dist
COPY --from=build /src/bin bin
COPY --from=build /src/charts/static charts/static
# The console's page and styles (its scripts are in dist/ui).
COPY --from=build /src/ui ui
USER 65532:65532
# 8443 webhook, 8444 alerts API, 9443 metrics (the chart serves /metrics on its own port)
EXPOSE 8443 8444 9443
# Kubernetes probes /healthz and /readyz; no HEALTHCHECK here.
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/bulwark.js"]
# bulwark serve binds 127.0.0.1 unless told: a container listens on its interfaces.
CMD ["serve", "--config", "/etc/bulwark/config.yaml", "--address", "0.0.0.0"]
