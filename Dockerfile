# paperbot: the Slack bot (and its CLI) on the offline defaults.
#   docker build -t paperbot .
#   docker run --rm -v paperbot-data:/data paperbot ingest
#   docker run -d -v paperbot-data:/data --env-file .env -p 3000:3000 paperbot serve

FROM python:3.11-slim AS build
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1
# Dependencies first, so code changes don't reinstall them.
COPY pyproject.toml README.md ./
COPY bot/__init__.py bot/
COPY retrieval/__init__.py retrieval/
COPY prompts/__init__.py prompts/
COPY config/__init__.py config/
RUN pip install -q . && pip uninstall -q -y paperbot
COPY . .
# Same install as the README (an editable install keeps data/ and prompts/ beside the code).
RUN pip install -q --no-deps -e .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 paperbot && mkdir /data && chown paperbot /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=paperbot /app /app
WORKDIR /app
ENV PATH=/opt/venv/bin:$PATH \
    PAPERBOT_DATA_DIR=/data \
    PAPERBOT_PORT=3000 \
    PYTHONUNBUFFERED=1
USER paperbot
VOLUME ["/data"]
EXPOSE 3000
ENTRYPOINT ["paperbot"]
CMD ["serve"]
