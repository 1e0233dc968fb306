# One container: the web app, SQLite under /data by default (or PostgreSQL via SOLEIL_DATABASE_URL).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    SOLEIL_DATA_DIR=/data SOLEIL_HOST=0.0.0.0 SOLEIL_PORT=8080 \
    NICEGUI_STORAGE_PATH=/data/.nicegui

WORKDIR /app
COPY pyproject.toml constraints.txt README.md main.py ./
COPY soleil_ui ./soleil_ui
COPY components ./components
COPY pages ./pages
# Same install as `make`: the package pinned by constraints.txt.
RUN pip install -c constraints.txt . \
 && useradd --system --uid 10001 --home-dir /data soleil \
 && mkdir -p /data && chown soleil /data

USER soleil
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=4).status != 200)"
CMD ["soleil", "run"]
