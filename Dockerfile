# The kupgrade-lint image: ghcr.io/kupgrade-lint/kupgrade-lint:0.1.0 (the tag is the version in
# pyproject.toml), used by deploy/collect-job.yaml and deploy/node-collector-daemonset.yaml.
#
#   docker build -t ghcr.io/kupgrade-lint/kupgrade-lint:0.1.0 .
#   docker run --rm --read-only --tmpfs /tmp -v "$PWD:/repo:ro" -w /repo \
#     ghcr.io/kupgrade-lint/kupgrade-lint:0.1.0 scan --manifests . --current 1.20 --target 1.21
#
# It runs as an unprivileged user (65532) and writes nothing outside /tmp and the directories
# it is told to write to, so it runs with a read-only root filesystem: the code is compiled at
# install time and Python never writes bytecode at run time.

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY kupgrade_lint/ kupgrade_lint/
COPY rules/ rules/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.12-slim
LABEL org.opencontainers.image.title="kupgrade-lint" \
      org.opencontainers.image.description="Tells, before you start, what breaks when you upgrade a kubeadm cluster" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/tmp \
    TMPDIR=/tmp
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# Numeric, so that Kubernetes' runAsNonRoot can verify it without an /etc/passwd entry.
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["kupgrade-lint"]
CMD ["--help"]
