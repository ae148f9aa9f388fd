# A Dask worker (or scheduler) image that grades Rectified: the course at one commit, its pinned
# requirements, and bubblewrap. Build it from the repository root, with BuildKit (Docker 23 and newer use it
# by default), which reads deploy/worker.Dockerfile.dockerignore instead of the root .dockerignore (that one
# leaves solutions/ out of the students' Binder image; a grader needs them):
#
#     docker build -f deploy/worker.Dockerfile --build-arg COMMIT=$(git rev-parse --short=12 HEAD) \
#         -t REGISTRY/rectified-grader:$(git rev-parse --short=12 HEAD) .
#
# The image holds the hidden tests: push it only to a private registry.
FROM python:3.11-slim-bookworm

# bubblewrap confines each notebook's kernel; prlimit and setpriv (util-linux) are in the base image.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bubblewrap \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/rectified
COPY requirements.txt pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN pip install --no-cache-dir --no-deps -e .

# No .git in the image: the commit the workers report when they refuse a client of another version.
ARG COMMIT=unknown
ENV RECTIFIED_COMMIT=$COMMIT \
    TF_CPP_MIN_LOG_LEVEL=2 \
    TF_ENABLE_ONEDNN_OPTS=0

# One task per worker process: a student's grading uses one core (kernels run single-threaded).
CMD ["dask", "worker", "--nthreads", "1", "--no-dashboard"]
