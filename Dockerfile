# postmock_nb as a service: the ASGI entry point (postmock_nb.asgi:app) on granian.
#   docker build -t postmock .
#   docker run --rm -p 8000:8000 -v "$PWD/my.postman_collection.json:/srv/collection.json:ro" postmock
# Settings are environment variables (POSTMOCK_*, see postmock_nb/asgi.py and docs/deploy.md);
# granian reads its own (GRANIAN_WORKERS, GRANIAN_PORT, ...).
# Several replicas that share one mock (Redis): deploy/compose.yaml, deploy/kubernetes.yaml.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/postmock
COPY pyproject.toml README.md ./
COPY postmock_nb ./postmock_nb
# the fast extra brings granian (and uvicorn, for those who prefer it: override CMD); the team extra the
# Redis client (POSTMOCK_STATE=redis://...: replicas that share one mock) and trustme (--tls)
RUN pip install "./[fast,team]" \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin postmock

# A sample collection, so that the image serves something as it is; mount yours over it.
COPY --chown=root:root notebooks/data/users.postman_collection.json /srv/collection.json

USER 10001
# 0.0.0.0 inside the container: the port is only reachable where it is published (-p, a Service).
# postmock binds 127.0.0.1 everywhere else.
ENV POSTMOCK_COLLECTION=/srv/collection.json \
    GRANIAN_INTERFACE=asgi \
    GRANIAN_HOST=0.0.0.0 \
    GRANIAN_PORT=8000 \
    GRANIAN_WORKERS=1
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["python", "-m", "postmock_nb.healthcheck"]

CMD ["granian", "postmock_nb.asgi:app"]
