#!/usr/bin/env bash
# A real control plane on loopback for Bulwark's end-to-end tests: etcd 3.4 (Debian's
# etcd-server) and kube-apiserver + kube-controller-manager v1.20.2, built from Debian's
# `kubernetes` source package into a cache outside the repository, keyed by package version.
#
#   test/e2e/cluster.sh build        install what is needed (apt) and build the binaries once
#   test/e2e/cluster.sh start DIR    start etcd, kube-apiserver, kube-controller-manager; state in DIR
#   test/e2e/cluster.sh stop DIR     stop them (by pid)
#
# Environment: BULWARK_E2E_CACHE (default /var/cache/bulwark-e2e), BULWARK_E2E_APISERVER_PORT
# (default 16443), BULWARK_E2E_ETCD_PORT (default 12379), BULWARK_E2E_AUDIT_WEBHOOK_CONFIG
# (a kubeconfig for the audit webhook backend, optional), BULWARK_E2E_ADMISSION_CONFIG (an
# --admission-control-config-file, optional), BULWARK_E2E_AUDIT_POLICY (default: audit-policy.yaml here).
set -euo pipefail

K8S_SRC_VERSION="1.20.5+really1.20.2-1.1+deb12u1"
CACHE_ROOT="${BULWARK_E2E_CACHE:-/var/cache/bulwark-e2e}"
CACHE="$CACHE_ROOT/$K8S_SRC_VERSION"
BIN="$CACHE/bin"
APISERVER_PORT="${BULWARK_E2E_APISERVER_PORT:-16443}"
ETCD_PORT="${BULWARK_E2E_ETCD_PORT:-12379}"
ETCD_PEER_PORT=$((ETCD_PORT + 1))
HERE="$(cd "$(dirname "$0")" && pwd)"

log() { printf '[cluster.sh] %s\n' "$*" >&2; }

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

build() {
  if [ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ]; then
    log "binaries cached in $BIN"
  else
    mkdir -p "$CACHE"
    # deb-src only in a sources list of our own, never in the system's.
    local srclist="$CACHE/sources.list"
    cat >"$srclist" <<'EOF'
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian bookworm-updates main
deb-src http://deb.debian.org/debian-security bookworm-security main
EOF
    local aptopts=(-o "Dir::Etc::SourceList=$srclist")
    log "apt-get update (with deb-src)"
    DEBIAN_FRONTEND=noninteractive apt-get "${aptopts[@]}" update -q >&2
    apt_install golang-1.19-go golang-github-modern-go-reflect2-dev dpkg-dev make rsync etcd-server
    if [ ! -d "$CACHE/src" ]; then
      log "apt-get source kubernetes=$K8S_SRC_VERSION"
      rm -rf "$CACHE/dl" && mkdir -p "$CACHE/dl"
      (cd "$CACHE/dl" && apt-get "${aptopts[@]}" source -q "kubernetes=$K8S_SRC_VERSION" >&2)
      local tree
      tree="$(find "$CACHE/dl" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -1)"
      [ -n "$tree" ] || { log "apt-get source produced no tree"; exit 1; }
      mv "$tree" "$CACHE/src"
      rm -rf "$CACHE/dl"
    fi
    # The vendored reflect2 1.0.1 breaks on Go 1.18+: use Debian's 1.0.2.
    rm -rf "$CACHE/src/vendor/github.com/modern-go/reflect2"
    cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 "$CACHE/src/vendor/github.com/modern-go/reflect2"
    export PATH="/usr/lib/go-1.19/bin:$PATH" GOFLAGS="" GOPROXY=off GO111MODULE=off
    for what in kube-apiserver kube-controller-manager; do
      if [ ! -x "$BIN/$what" ]; then
        log "make WHAT=cmd/$what (several minutes)"
        (cd "$CACHE/src" && make WHAT="cmd/$what" >&2)
        mkdir -p "$BIN"
        cp "$(find "$CACHE/src/_output" -type f -name "$what" -perm -u+x | head -1)" "$BIN/$what"
      fi
    done
    # The build tree is large; keep only the binaries.
    rm -rf "$CACHE/src"
  fi
  apt_install etcd-server openssl
}

wait_for() { # url, tries, extra curl args...
  local url="$1" tries="$2"; shift 2
  for _ in $(seq "$tries"); do
    if curl -fsS -o /dev/null "$@" "$url" 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  return 1
}

start() {
  local dir="$1"
  [ -x "$BIN/kube-apiserver" ] || { log "binaries missing: run '$0 build' first"; exit 1; }
  mkdir -p "$dir/pki" "$dir/etcd" "$dir/log"
  local pki="$dir/pki"
  # A throwaway PKI: the API server's serving cert, a client CA, the service-account key pair.
  if [ ! -f "$pki/ca.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 3 -subj "/CN=e2e-ca" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" -subj "/CN=kube-apiserver" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:kubernetes.default.svc\n' >"$pki/san.ext"
    openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -out "$pki/apiserver.crt" -days 3 -extfile "$pki/san.ext" 2>/dev/null
    openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
    local token
    token="$(openssl rand -hex 16)"
    printf '%s,e2e-admin,e2e-admin,"system:masters"\n' "$token" >"$dir/tokens.csv"
    printf '%s\n' "$token" >"$dir/admin.token"
    # Two people for the alerts API's Kubernetes mode (TokenReview + SubjectAccessReview).
    local reader secadmin
    reader="$(openssl rand -hex 16)"
    secadmin="$(openssl rand -hex 16)"
    printf '%s,alice,alice-uid,"security-readers"\n%s,sam,sam-uid,"security-admins"\n' "$reader" "$secadmin" >>"$dir/tokens.csv"
    printf '%s\n' "$reader" >"$dir/reader.token"
    printf '%s\n' "$secadmin" >"$dir/secadmin.token"
    chmod 600 "$dir/tokens.csv" "$dir"/*.token
    (umask 077; cat >"$dir/kubeconfig") <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority: $pki/ca.crt
users:
- name: e2e-admin
  user:
    token: $token
contexts:
- name: e2e
  context: {cluster: e2e, user: e2e-admin}
current-context: e2e
EOF
    cp "${BULWARK_E2E_AUDIT_POLICY:-$HERE/audit-policy.yaml}" "$dir/audit-policy.yaml"
  fi

  log "starting etcd on 127.0.0.1:$ETCD_PORT"
  etcd --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" \
    >"$dir/log/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"
  wait_for "http://127.0.0.1:$ETCD_PORT/health" 60 || { log "etcd did not start"; tail -20 "$dir/log/etcd.log" >&2; exit 1; }

  local audit_webhook=()
  if [ -n "${BULWARK_E2E_AUDIT_WEBHOOK_CONFIG:-}" ]; then
    audit_webhook=(--audit-webhook-config-file="$BULWARK_E2E_AUDIT_WEBHOOK_CONFIG" --audit-webhook-batch-max-wait=1s --audit-webhook-initial-backoff=1s)
  fi
  local admission=()
  if [ -n "${BULWARK_E2E_ADMISSION_CONFIG:-}" ]; then
    admission=(--admission-control-config-file="$BULWARK_E2E_ADMISSION_CONFIG")
  fi
  log "starting kube-apiserver on 127.0.0.1:$APISERVER_PORT"
  "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" --insecure-port=0 \
    --cert-dir="$pki" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$pki/sa.pub" \
    --service-account-signing-key-file="$pki/sa.key" \
    --token-auth-file="$dir/tokens.csv" --authorization-mode=RBAC --allow-privileged=true \
    --feature-gates=EphemeralContainers=true \
    --service-cluster-ip-range=10.96.0.0/16 \
    --audit-log-path="$dir/log/audit.log" --audit-policy-file="$dir/audit-policy.yaml" --audit-log-format=json \
    "${audit_webhook[@]}" "${admission[@]}" \
    >"$dir/log/kube-apiserver.log" 2>&1 &
  echo $! >"$dir/kube-apiserver.pid"
  wait_for "https://127.0.0.1:$APISERVER_PORT/readyz" 240 --cacert "$pki/ca.crt" -H "Authorization: Bearer $(cat "$dir/admin.token")" \
    || { log "kube-apiserver did not become ready"; tail -30 "$dir/log/kube-apiserver.log" >&2; exit 1; }

  log "starting kube-controller-manager"
  "$BIN/kube-controller-manager" --kubeconfig="$dir/kubeconfig" --authentication-kubeconfig="$dir/kubeconfig" \
    --authorization-kubeconfig="$dir/kubeconfig" --bind-address=127.0.0.1 --secure-port=0 --port=0 \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" --use-service-account-credentials \
    --controllers='*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service,-route' --leader-elect=false \
    >"$dir/log/kube-controller-manager.log" 2>&1 &
  echo $! >"$dir/kube-controller-manager.pid"
  log "control plane up: KUBECONFIG=$dir/kubeconfig"
}

stop() {
  local dir="$1"
  for name in kube-controller-manager kube-apiserver etcd; do
    if [ -f "$dir/$name.pid" ]; then
      local pid
      pid="$(cat "$dir/$name.pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$name.pid"
    fi
  done
}

case "${1:-}" in
  build) build ;;
  start) start "${2:?usage: $0 start DIR}" ;;
  stop) stop "${2:?usage: $0 stop DIR}" ;;
  *) echo "usage: $0 build | start DIR | stop DIR" >&2; exit 2 ;;
esac
