# The web app (webhooks, provider API, studio) under gunicorn. Run `rhi worker` from the same image for the
# outbox relay, and `rhi db upgrade` once per release before starting either.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    RHI_INSTANCE_PATH=/home/rhi/instance

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin rhi
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY webhooks ./webhooks
COPY conversations ./conversations
COPY models ./models
RUN pip install . && rm -rf /root/.cache

USER rhi
EXPOSE 8000
CMD ["rhi", "serve", "--host", "0.0.0.0", "--port", "8000"]
