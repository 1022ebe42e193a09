# dlquiz: the daily deep-learning quiz bot, as a container.
#
#   docker build -t dlquiz .
#   docker run -d --name dlquiz-discord --env-file .env -v dlquiz-discord:/data dlquiz
#   docker run -d --name dlquiz-slack --env-file .env -v dlquiz-slack:/data -p 3000:3000 \
#       dlquiz run slack
#
# The arguments after the image name are a dlquiz command line (`run discord` by default,
# `run slack`, `health`, `content check`, `db backup /data/backup.db`, `console`).
# The database lives in the volume at /data; migrations run when the bot starts.

# --- stage 1: wheels for the project and every dependency --------------------------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the wheel is made of (see [tool.setuptools] in pyproject.toml).
COPY pyproject.toml README.md LICENSE ./
COPY bot/ bot/
COPY adapters/ adapters/
COPY content/ content/

# Every dependency has a binary wheel for CPython 3.11 on manylinux, so no compiler is needed.
# tzdata (PyPI): the IANA time zone database for zoneinfo. The slim base images cannot be relied
# on to carry /usr/share/zoneinfo, and `/dlquiz schedule 09:00 Europe/Berlin` needs it; the PyPI
# package is zoneinfo's documented fallback and keeps the image free of apt layers.
RUN pip wheel --wheel-dir /wheels . tzdata

# --- stage 2: the runtime ----------------------------------------------------------------------
FROM python:3.11-slim

LABEL org.opencontainers.image.title="dlquiz" \
      org.opencontainers.image.description="A daily deep-learning quiz for Discord servers and Slack workspaces" \
      org.opencontainers.image.licenses="MIT"

# TZ=UTC: the process's own zone (APScheduler asks tzlocal for it, and the slim base has no
# /etc/localtime, which makes tzlocal warn). Each channel's schedule names its own IANA zone, so
# TZ only sets the zone of text log timestamps; no user sees it.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/dlquiz \
    PATH=/opt/dlquiz/bin:$PATH \
    DLQUIZ_DB=/data/dlquiz.db \
    TZ=UTC

# Installed from the wheels of stage 1 only (--no-index): nothing is built or fetched here.
# pip and setuptools are not needed at run time and leave the venv afterwards; the bank is
# checked once so a broken bank fails the build rather than the first start.
COPY --from=build /wheels /tmp/wheels
RUN python -m venv /opt/dlquiz \
    && /opt/dlquiz/bin/pip install --no-index --find-links /tmp/wheels dlquiz tzdata \
    && /opt/dlquiz/bin/pip uninstall --yes pip setuptools \
    && rm -rf /tmp/wheels \
    && groupadd --gid 10001 dlquiz \
    && useradd --uid 10001 --gid dlquiz --no-log-init --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin dlquiz \
    && mkdir -p /data \
    && chown dlquiz:dlquiz /data \
    && dlquiz content check > /dev/null

# A new named volume takes this folder's owner, so the bot (uid 10001) can write its database.
VOLUME /data
WORKDIR /data
USER 10001:10001

# Slack HTTP mode (`run slack` without SLACK_APP_TOKEN) listens here, with GET /healthz.
EXPOSE 3000

# `dlquiz health`: exit 0 when the database opens read-only and the question bank is valid.
# The bot creates the database when it starts, so the start period covers the first start.
HEALTHCHECK --interval=60s --timeout=15s --start-period=120s --retries=3 \
    CMD ["dlquiz", "health"]

# The bot closes its connections and lets its database writer finish on SIGTERM. Slack gives
# running requests up to 30 s, so stop with `docker stop -t 45` (compose.yaml sets 45 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["dlquiz"]
CMD ["run", "discord"]
