# lecture-bot as a container: `docker build -t lecture-bot .`, or deploy/compose.yaml, which
# runs PostgreSQL, two instances and a reverse proxy (docs/deploy.md walks through it).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libpq5: the client library psycopg 3 loads when it is installed without its binary wheel;
# about 1 MB, and harmless when the driver brings its own.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*

# A dedicated user without a login shell; its home is the working directory, so the default
# SQLite path (data/) and matplotlib's cache are writable when no database URL is given.
RUN useradd --system --uid 10001 --user-group --create-home \
        --home-dir /var/lib/lecture-bot --shell /usr/sbin/nologin lecture-bot \
    && install -d -o lecture-bot -g lecture-bot /var/lib/lecture-bot/shared

WORKDIR /usr/src/lecture-bot
COPY pyproject.toml README.md ./
COPY bot ./bot
# The `postgres` extra (the PostgreSQL driver) is added by the PostgreSQL work on issue 22;
# until it exists pip only warns that the extra is unknown and installs the rest.
RUN pip install ".[postgres]" && rm -rf build ./*.egg-info

COPY deploy/healthcheck.py /usr/local/lib/lecture-bot/healthcheck.py

# The shared folder (knowledge folder and staged uploads, read by every instance). The
# repository's lectures and word lists seed it: an empty named volume mounted here is filled
# from the image the first time.
ENV BOT_KNOWLEDGE_DIR=/var/lib/lecture-bot/shared/knowledge
COPY --chown=lecture-bot:lecture-bot knowledge /var/lib/lecture-bot/shared/knowledge

USER lecture-bot
WORKDIR /var/lib/lecture-bot

# Loading the lectures and the index takes a few seconds before the webhook server listens.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/lib/lecture-bot/healthcheck.py"]

# `start` runs the bot when TELEGRAM_BOT_TOKEN is set and opens the local chat otherwise
# (`docker run -it lecture-bot` to try it); deploy/compose.yaml runs `lecture-bot run`, which
# stops with an error instead when the token is missing.
CMD ["lecture-bot", "start"]
