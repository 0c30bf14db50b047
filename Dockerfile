# syntax=docker/dockerfile:1
# One image for both processes: `npm run api` (default CMD) and `npm run worker` (compose overrides CMD).
# The app runs TypeScript directly with tsx, so it needs a full `npm ci`.
FROM node:20-bookworm-slim

WORKDIR /app

# Dependencies first, so code changes do not invalidate the npm layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force

COPY . .
# The web inbox is served by the API from web/dist.
RUN npm run web:build
# The workflow bundle, built once here rather than by webpack at every worker start.
RUN npm run build:workflows
RUN mkdir -p /app/data && chown node:node /app/data

ENV NODE_ENV=production \
    PORT=3000
USER node
EXPOSE 3000

CMD ["npm", "run", "api"]
