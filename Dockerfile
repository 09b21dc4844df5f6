# engage-relay: one image for every process (ingest, worker, beat, flower, simulator, the demo FTP drop).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY engage ./engage
COPY schemas ./schemas
COPY mappers ./mappers
COPY tasks ./tasks
COPY workers ./workers
COPY fallback ./fallback
COPY relay ./relay
COPY api ./api
COPY console ./console
COPY migration ./migration
COPY simulator ./simulator
COPY ops ./ops
RUN pip install ".[demo]"

RUN useradd --create-home --uid 10001 relay && mkdir -p /data && chown relay:relay /data
USER relay
ENV ENGAGE_RELAY_DATA_DIR=/data \
    ENGAGE_RELAY_METRICS_ADDR=0.0.0.0
VOLUME ["/data"]

ENTRYPOINT []
CMD ["engage-relay", "--help"]
