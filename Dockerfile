# paperbot: the Slack bot (and its CLI) on the offline defaults.
#   docker build -t paperbot .
#   docker run --rm -v paperbot-data:/data paperbot ingest
#   docker run -d -v paperbot-data:/data --env-file .env -p 3000:3000 paperbot serve
# Settings come from the environment (--env-file); the image holds no .env, no tests, no .git.

FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1
# Dependencies first, so code changes don't reinstall them: install the package from its
# metadata and empty folders, then drop it and keep the dependencies.
COPY pyproject.toml README.md ./
RUN mkdir -p bot/blocks bot/cli bot/listeners bot/replies bot/state bot/web retrieval/corpus/loaders retrieval/index retrieval/questions retrieval/answering \
    retrieval/llm/answerers retrieval/training prompts config data \
    && pip install -q '.[postgres]' && pip uninstall -q -y paperbot
# The package's own folders only, then a normal (non-editable) install: code, corpus, prompts,
# fitted decisions and migrations are copied into the venv's site-packages.
COPY bot bot
COPY retrieval retrieval
COPY prompts prompts
COPY config config
COPY data data
RUN pip install -q --no-deps . && rm -rf /src

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 paperbot && mkdir /data && chown paperbot /data
# Only the virtualenv crosses over: no sources, no build context.
COPY --from=build /opt/venv /opt/venv
WORKDIR /home/paperbot
ENV PATH=/opt/venv/bin:$PATH \
    PAPERBOT_DATA_DIR=/data \
    PAPERBOT_PORT=3000 \
    PYTHONUNBUFFERED=1
USER paperbot
VOLUME ["/data"]
EXPOSE 3000
ENTRYPOINT ["paperbot"]
CMD ["serve"]
