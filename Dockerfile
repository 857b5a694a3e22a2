# syntax=docker/dockerfile:1
# gospulse: the worker and every other command, for the production compose stack.
# No broker or Redis binary inside (the `local` extra is left out): those are services of their own.

# -- build: the project's wheel and its dependencies' wheels ---------------------------------------
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY schemas schemas
COPY streams streams
COPY agents agents
COPY gospulse gospulse
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# -- run: the wheels installed, a user without privileges ------------------------------------------
FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/gospulse --create-home gospulse
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels gospulse && rm -rf /wheels
COPY deploy/kpi/profiles.toml /etc/gospulse/profiles.toml
USER gospulse
WORKDIR /var/lib/gospulse
ENV GOSPULSE_DATA_DIR=/var/lib/gospulse \
    GOSPULSE_WEB_HOST=0.0.0.0 \
    GOSPULSE_PROFILES=/etc/gospulse/profiles.toml \
    PYTHONUNBUFFERED=1
EXPOSE 6066
# ready = recovered and following the registry (GET /health answers 200); 503 while recovering
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('GOSPULSE_WEB_PORT', '6066'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/health', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["gospulse"]
CMD ["worker"]
