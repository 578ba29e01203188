# Sourced by test.sh: starts Debian's PostgreSQL cluster (installed by setup-env.sh) and
# exports SCREENER_TEST_POSTGRES_URL for the web tests. Needs root (CI runs as root).
set -euo pipefail
cluster="$(pg_lsclusters -h | awk 'NR==1 {print $1, $2}')"
if [ -z "$cluster" ]; then
  echo "no PostgreSQL cluster found (is the postgresql package installed?)" >&2
  exit 1
fi
pg_ctlcluster $cluster start >/dev/null 2>&1 || pg_ctlcluster $cluster status >/dev/null
port="$(pg_lsclusters -h | awk 'NR==1 {print $3}')"
su postgres -c "psql -q -p $port -c \"ALTER USER postgres PASSWORD 'screener-test'\"" >/dev/null
export SCREENER_TEST_POSTGRES_URL="postgresql+psycopg://postgres:screener-test@127.0.0.1:${port}/postgres"
