# syntax=docker/dockerfile:1
# Solti ChatOps: the Slack bot and the `solti` operator CLI in one small image.
#
# Stage 1 builds the wheel; stage 2 installs only the wheel and its runtime dependencies, so no
# compiler, build frontend or source tree is left in the image that runs. Both stages take their
# versions from constraints.txt (scripts/lock_constraints.py), so one commit builds one image.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY constraints.txt ./
RUN pip install --no-cache-dir -c constraints.txt build
COPY pyproject.toml README.md ./
COPY src ./src
# The isolated build environment (setuptools) is pinned by the same file.
RUN PIP_CONSTRAINT=/src/constraints.txt python -m build --wheel --outdir /dist

FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="solti-chatops" \
      org.opencontainers.image.description="Provision Proxmox VE VMs from Slack: cloud-init ready VMs, approved template builds, an audit log." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.documentation="docs/index.md" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SOLTI_DB=/data/solti.db \
    SOLTI_HTTP_PORT=3000 \
    SOLTI_LOG_FORMAT=json

# A fixed, unprivileged uid so volume ownership is predictable across upgrades.
RUN groupadd --system --gid 10001 solti \
    && useradd --system --no-log-init --uid 10001 --gid solti --home-dir /data --shell /usr/sbin/nologin solti \
    && mkdir -p /data \
    && chown solti:solti /data

COPY --from=builder /dist/ /tmp/dist/
COPY constraints.txt /tmp/constraints.txt
RUN pip install --no-cache-dir -c /tmp/constraints.txt /tmp/dist/*.whl \
    && rm -rf /tmp/dist /tmp/constraints.txt

USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000

# GET /healthz on SOLTI_HTTP_PORT in both modes: HTTP mode answers 200 while serving; Socket
# Mode answers 200 only while its websocket session with Slack is up (503 while connecting or
# reconnecting), so a bot that lost Slack is reported unhealthy, not just a dead process.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SOLTI_HTTP_PORT', '3000'), timeout=4).close()"]

ENTRYPOINT ["solti"]
CMD ["bot"]
