# One container: the web app, SQLite under /data by default (or PostgreSQL via SOLEIL_DATABASE_URL).
# BASE_IMAGE lets a machine with no registry build on a local stand-in (see .ci/container-check); pin it by digest
# for reproducible builds, e.g. --build-arg BASE_IMAGE=python:3.11-slim-bookworm@sha256:…
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SOLEIL_DATA_DIR=/data SOLEIL_HOST=0.0.0.0 SOLEIL_PORT=8080 \
    NICEGUI_STORAGE_PATH=/data/.nicegui

# DejaVu Sans: the stage print shows accents, ♭ and ♯ as typed (without it they print as b and #).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml constraints.txt README.md main.py ./
COPY soleil_ui ./soleil_ui
COPY components ./components
COPY pages ./pages
# Same install as `make run`: the package and its runtime dependencies pinned by constraints.txt, no test extras.
RUN pip install -c constraints.txt . \
 && useradd --system --uid 10001 --home-dir /data soleil \
 && mkdir -p /data && chown soleil /data

USER soleil
VOLUME ["/data"]
EXPOSE 8080
# `soleil healthcheck` asks /readyz where the settings say the app listens (SOLEIL_PORT, https with SOLEIL_TLS_CERT);
# as this module it imports only the settings: a fraction of the time and memory of the whole command, every 30 s.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["python", "-m", "soleil_ui.healthcheck"]
CMD ["soleil", "run"]
