# kubeviz image: stage 1 builds the front end (when there is one), stage 2 is the Python runtime.
FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/ ./
RUN if [ -f package.json ]; then npm ci --no-audit --no-fund && npm run build; else mkdir -p dist; fi

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 KUBEVIZ_VAR_DIR=/var/lib/kubeviz
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY manage.py pyproject.toml ./
COPY kubeviz/ kubeviz/
COPY --from=frontend /src/frontend/dist/ frontend/dist/
RUN mkdir -p /var/lib/kubeviz && useradd --system --home /app kubeviz && chown kubeviz /var/lib/kubeviz
USER kubeviz
EXPOSE 8000
# The web role by default; compose.yaml runs the same image as worker and beat.
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py ensure_cluster demo && exec daphne -b 0.0.0.0 -p 8000 kubeviz.asgi:application"]
