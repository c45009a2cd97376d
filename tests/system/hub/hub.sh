#!/usr/bin/env bash
# A Docker-Hub-like registry made of real parts, on loopback only, for
# tests/system/registry_hub.bats.
#
#   hub.sh start DIR [SUITE_REGISTRY]   build certificates and configs in DIR, start
#                                       everything, seed it; writes DIR/env (shell
#                                       assignments, see below)
#   hub.sh stop DIR                     stop what `start` started in DIR
#
# Parts (all 127.0.0.1, free ports):
#   registry  docker-registry with bearer-token auth (JWTs checked against the
#             token signer's certificate) and the `redirect` storage middleware:
#             blob GETs answer 307 to the CDN;                     HUB_REGISTRY (plain HTTP)
#   token     token_server.py behind nginx TLS (realm of the registry);   HUB_TOKEN
#   front     nginx TLS in front of the registry ("registry-1");          HUB_FRONT
#             /v2/slow/, /v2/norange/, /v2/bad/ rewrite the 307 to slow, no-range
#             and wrong-bytes CDN paths; /v2/ratelimit/ answers 429 + Retry-After
#             once every 2 s; /v2/flaky/ 503 likewise; /v2/toolong/ always 429
#             with Retry-After: 3600; /v2/old/ serves a schema 1 manifest
#   cdn       a second nginx, TLS, serving the registry's storage as static files
#             (Range requests work); 403 to any request with Authorization;  HUB_CDN
#             its worker can be killed to cut transfers (HUB_CDN_PIDFILE)
#   basic     nginx TLS with auth_basic (htpasswd) in front of SUITE_REGISTRY (the
#             suite's anonymous registry), for `mini login`;          HUB_BASIC
#   proxy     plain HTTP forward proxy (nginx), for http_proxy tests;  HUB_PROXY
# Logs: DIR/front.log DIR/cdn.log DIR/token.log DIR/basic.log DIR/proxy.log
# (nginx lines: ... "REQUEST" STATUS BYTES range="..." auth="..." t=END rt=DURATION).
# Certificates: DIR/ca.crt (test CA), DIR/certs.d/127.0.0.1:FRONT/ca.crt, etc.
# Users: admin/adminpw (push), alice/wonderland (pull), for the token service and
# for the basic registry.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
SERVICE=mini-hub-test
ISSUER=mini-hub-test-issuer

die() {
  echo "hub.sh: $*" >&2
  exit 1
}

shared_images() {
  echo "${MINI_SHARED_IMAGES:-$REPO/../shared/images}"
}

port_in_use() {
  [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
}

TAKEN=" "
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 30000))
    [[ $TAKEN == *" $p "* ]] && continue
    port_in_use "$p" && continue
    TAKEN+="$p "
    echo "$p"
    return 0
  done
  die "no free port"
}

alive() {
  local state
  [[ -r /proc/$1/stat ]] || return 1
  state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# Run "$@" detached, without inherited fds, output to LOG; pid into PIDFILE.
spawn() {
  local pidfile=$1 log=$2 fd
  shift 2
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then
        eval "exec $fd>&-" 2>/dev/null || true
      fi
    done
    exec "$@" </dev/null >>"$log" 2>&1
  ) &
  echo $! >"$pidfile"
}

# Stop the process in PIDFILE if its command line mentions DIR.
stop_pidfile() {
  local pidfile=$1 dir=$2 pid i
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  if alive "$pid" && tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$dir"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
  fi
  rm -f "$pidfile"
}

# wait_http URL CODE...: poll until URL answers one of CODEs (10 s).
wait_http() {
  local url=$1 code i
  shift
  for ((i = 0; i < 100; i++)); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$DIR/ca.crt" "$url" || true)
    for c in "$@"; do
      [[ $code == "$c" ]] && return 0
    done
    sleep 0.1
  done
  die "$url did not answer ($code)"
}

make_certs() {
  local ext=$DIR/server.ext
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3 -subj "/CN=mini test CA" \
    -keyout "$DIR/ca.key" -out "$DIR/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=127.0.0.1" \
    -keyout "$DIR/server.key" -out "$DIR/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" \
    "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" >"$ext"
  openssl x509 -req -sha256 -days 3 -in "$DIR/server.csr" -CA "$DIR/ca.crt" \
    -CAkey "$DIR/ca.key" -CAcreateserial -out "$DIR/server.crt" -extfile "$ext" 2>/dev/null
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3 -subj "/CN=mini test token signer" \
    -keyout "$DIR/token.key" -out "$DIR/token.crt" 2>/dev/null
  # skopeo's --dest-cert-dir, and mini's --certs-dir layout (Docker's certs.d)
  # (the CDN and the token service are trusted through the registry's own CA, as
  # Docker's per-registry transport does)
  mkdir -p "$DIR/skopeo-certs" "$DIR/certs.d/127.0.0.1:$FRONT" "$DIR/certs.d/127.0.0.1:$BASIC"
  cp "$DIR/ca.crt" "$DIR/skopeo-certs/ca.crt"
  cp "$DIR/ca.crt" "$DIR/certs.d/127.0.0.1:$FRONT/ca.crt"
  cp "$DIR/ca.crt" "$DIR/certs.d/127.0.0.1:$BASIC/ca.crt"
}

write_registry_config() {
  cat >"$DIR/registry.yml" <<YAML
version: 0.1
log:
  level: warn
  formatter: text
storage:
  filesystem:
    rootdirectory: $DIR/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
middleware:
  storage:
    - name: redirect
      options:
        baseurl: https://127.0.0.1:$CDN/
auth:
  token:
    realm: https://127.0.0.1:$TOKEN/token
    service: $SERVICE
    issuer: $ISSUER
    rootcertbundle: $DIR/token.crt
validation:
  manifests:
    urls:
      allow:
        - ^https://127\.0\.0\.1:$CDN/foreign/
http:
  addr: 127.0.0.1:$REGISTRY
  headers:
    X-Content-Type-Options: [nosniff]
YAML
}

nginx_common() {
  cat <<NGINX
daemon off;
worker_processes 1;
user root;
error_log $DIR/$1-error.log warn;
events { worker_connections 512; }
NGINX
}

nginx_http_common() {
  cat <<NGINX
  # auth: the scheme only ("Bearer", "Basic", "-"); the CDN logs the whole header
  map \$http_authorization \$auth_scheme {
    "" "-";
    "~^(?<authscheme>[A-Za-z]+)" \$authscheme;
    default "?";
  }
  log_format hub '\$remote_addr [\$time_iso8601] "\$request" \$status \$body_bytes_sent range="\$http_range" auth="\$auth_scheme" t=\$msec rt=\$request_time';
  log_format cdn '\$remote_addr [\$time_iso8601] "\$request" \$status \$body_bytes_sent range="\$http_range" auth="\$http_authorization" t=\$msec rt=\$request_time';
  client_body_temp_path $DIR/nginx-tmp/$1-body;
  proxy_temp_path $DIR/nginx-tmp/$1-proxy;
  fastcgi_temp_path $DIR/nginx-tmp/$1-fastcgi;
  uwsgi_temp_path $DIR/nginx-tmp/$1-uwsgi;
  scgi_temp_path $DIR/nginx-tmp/$1-scgi;
  types { application/octet-stream data; }
  default_type application/octet-stream;
  sendfile on;
  keepalive_timeout 30;
  ssl_certificate $DIR/server.crt;
  ssl_certificate_key $DIR/server.key;
NGINX
}

write_nginx_configs() {
  local upstream="http://127.0.0.1:$REGISTRY" suite=${SUITE_REGISTRY:-127.0.0.1:1}
  {
    nginx_common hub
    cat <<NGINX
http {
$(nginx_http_common hub)
  limit_req_zone \$server_port zone=rl429:1m rate=30r/m;
  limit_req_zone \$server_port zone=rl503:1m rate=30r/m;

  # "registry-1": TLS in front of docker-registry
  server {
    listen 127.0.0.1:$FRONT ssl;
    access_log $DIR/front.log hub;
    client_max_body_size 0;
    proxy_http_version 1.1;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_read_timeout 300;
    proxy_set_header Host \$http_host;
    proxy_set_header X-Forwarded-Proto https;

    location /v2/ { proxy_pass $upstream; }
    location /v2/slow/ {
      proxy_pass $upstream;
      proxy_redirect https://127.0.0.1:$CDN/ https://127.0.0.1:$CDN/slow/;
    }
    location /v2/norange/ {
      proxy_pass $upstream;
      proxy_redirect https://127.0.0.1:$CDN/ https://127.0.0.1:$CDN/norange/;
    }
    location /v2/bad/ {
      proxy_pass $upstream;
      proxy_redirect https://127.0.0.1:$CDN/ https://127.0.0.1:$CDN/bad/;
    }
    location ~ ^/v2/ratelimit/.*/manifests/latest\$ {
      limit_req zone=rl429 nodelay;
      limit_req_status 429;
      error_page 429 = @toomany;
      proxy_pass $upstream;
    }
    location @toomany {
      add_header Retry-After 2 always;
      default_type application/json;
      return 429 '{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit. Wait a little."}]}';
    }
    location ~ ^/v2/flaky/.*/manifests/latest\$ {
      limit_req zone=rl503 nodelay;
      limit_req_status 503;
      proxy_pass $upstream;
    }
    location /v2/toolong/ {
      add_header Retry-After 3600 always;
      default_type application/json;
      return 429 '{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}';
    }
    location = /v2/old/busybox/manifests/latest {
      default_type application/vnd.docker.distribution.manifest.v1+prettyjws;
      return 200 '{"schemaVersion":1,"name":"old/busybox","tag":"latest","architecture":"amd64","fsLayers":[],"history":[]}';
    }
  }

  # the token service ("auth.docker.io")
  server {
    listen 127.0.0.1:$TOKEN ssl;
    access_log $DIR/token-nginx.log hub;
    location / {
      proxy_pass http://127.0.0.1:$TOKEN_HTTP;
      proxy_set_header Host \$http_host;
    }
  }

  # a private registry with basic auth (htpasswd), for mini login
  server {
    listen 127.0.0.1:$BASIC ssl;
    access_log $DIR/basic.log hub;
    client_max_body_size 0;
    location /v2/ {
      auth_basic "mini test registry";
      auth_basic_user_file $DIR/htpasswd;
      add_header Docker-Distribution-Api-Version registry/2.0 always;
      proxy_pass http://$suite;
      proxy_set_header Host \$http_host;
      proxy_set_header Authorization "";
    }
  }

  # a forward proxy for plain HTTP (what http_proxy points at)
  server {
    listen 127.0.0.1:$PROXY;
    access_log $DIR/proxy.log hub;
    location / {
      proxy_pass http://\$http_host\$request_uri;
    }
  }
}
NGINX
  } >"$DIR/hub-nginx.conf"

  {
    nginx_common cdn
    cat <<NGINX
http {
$(nginx_http_common cdn)
  # the "CDN": the registry's storage as static files, never with credentials
  server {
    listen 127.0.0.1:$CDN ssl;
    access_log $DIR/cdn.log cdn;
    if (\$http_authorization) {
      return 403;
    }
    location /docker/ { root $DIR/data; }
    location /slow/ { alias $DIR/data/; limit_rate 512k; }
    location /norange/ { alias $DIR/data/; limit_rate 512k; max_ranges 0; }
    location /bad/ { root $DIR/badroot; try_files \$uri @good; }
    location @good {
      rewrite ^/bad(/.*)\$ \$1 break;
      root $DIR/data;
    }
    location /foreign/ { alias $DIR/foreign/; }
  }
}
NGINX
  } >"$DIR/cdn-nginx.conf"
}

registry_repo_dir() {
  echo "$DIR/data/docker/registry/v2/repositories/$1"
}

seed() {
  local src skopeo_dest=(--dest-cert-dir "$DIR/skopeo-certs" --dest-creds admin:adminpw)
  src=$(shared_images)
  [[ -f $src/busybox/index.json && -f $src/nginx/index.json ]] ||
    die "no OCI layouts in $src (set MINI_SHARED_IMAGES)"
  skopeo --insecure-policy copy --quiet --all --preserve-digests "${skopeo_dest[@]}" \
    "oci:$src/busybox:latest" "docker://127.0.0.1:$FRONT/library/busybox:latest" >&2
  # nginx as a Docker image (manifest v2 schema 2)
  skopeo --insecure-policy copy --quiet --format v2s2 "${skopeo_dest[@]}" \
    "oci:$src/nginx:latest" "docker://127.0.0.1:$FRONT/library/nginx:latest" >&2
  # nginx with zstd layers: recompressed into a fresh OCI layout, then pushed
  rm -rf "$DIR/nginx-zstd"
  skopeo --insecure-policy copy --quiet --dest-compress --dest-compress-format zstd \
    "oci:$src/nginx:latest" "oci:$DIR/nginx-zstd:latest" >&2
  skopeo --insecure-policy copy --quiet --preserve-digests "${skopeo_dest[@]}" \
    "oci:$DIR/nginx-zstd:latest" "docker://127.0.0.1:$FRONT/zstd/nginx:latest" >&2
  rm -rf "$DIR/nginx-zstd"
  # busybox with uncompressed layers (--dest-decompress works for dir: only; pushing
  # with --preserve-digests keeps them uncompressed)
  rm -rf "$DIR/busybox-plain"
  skopeo --insecure-policy copy --quiet --dest-decompress \
    "oci:$src/busybox:latest" "dir:$DIR/busybox-plain" >&2
  skopeo --insecure-policy copy --quiet --preserve-digests "${skopeo_dest[@]}" \
    "dir:$DIR/busybox-plain" "docker://127.0.0.1:$FRONT/plain/busybox:latest" >&2
  rm -rf "$DIR/busybox-plain"
  seed_foreign
  seed_attestation
  # The same busybox under other names (the registry's storage links blobs per
  # repository; copying the repository directory is what a push would write).
  local name
  for name in slow norange bad ratelimit flaky private oauth shortlived; do
    mkdir -p "$(dirname "$(registry_repo_dir "$name/busybox")")"
    cp -a "$(registry_repo_dir library/busybox)" "$(registry_repo_dir "$name/busybox")"
  done
}

# foreign/busybox: busybox (linux/amd64) whose layer is non-distributable, with "urls"
# on the CDN: tag latest points at a copy there, tag broken at a URL that answers 404
# (the registry itself still has the blob).
seed_foreign() {
  local src token layer manifest tag url
  src=$(shared_images)/busybox
  mkdir -p "$(dirname "$(registry_repo_dir foreign/busybox)")"
  cp -a "$(registry_repo_dir library/busybox)" "$(registry_repo_dir foreign/busybox)"
  token=$(curl -sf --cacert "$DIR/ca.crt" -u admin:adminpw \
    "https://127.0.0.1:$TOKEN/token?service=$SERVICE&scope=repository:foreign/busybox:pull,push" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  for tag in latest broken; do
    manifest=$(python3 - "$src" "$CDN" "$tag" <<'PY'
import json, sys
src, cdn, tag = sys.argv[1:]
top = json.load(open(src + "/index.json"))
ref = [m for m in top["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "latest"][0]
idx = json.load(open(src + "/blobs/sha256/" + ref["digest"][7:]))
amd64 = [m for m in idx["manifests"] if m.get("platform", {}).get("architecture") == "amd64"][0]
man = json.load(open(src + "/blobs/sha256/" + amd64["digest"][7:]))
layer = man["layers"][0]
hexd = layer["digest"][7:]
layer["mediaType"] = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
name = hexd if tag == "latest" else "missing-" + hexd
layer["urls"] = ["https://127.0.0.1:%s/foreign/%s" % (cdn, name)]
man.pop("annotations", None)
print(json.dumps(man))
PY
)
    curl -sf --cacert "$DIR/ca.crt" -X PUT -H "Authorization: Bearer $token" \
      -H "Content-Type: application/vnd.oci.image.manifest.v1+json" --data-binary "$manifest" \
      "https://127.0.0.1:$FRONT/v2/foreign/busybox/manifests/$tag" >/dev/null ||
      die "push of foreign/busybox:$tag failed"
  done
  layer=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["layers"][0]["digest"][7:])' "$manifest")
  cp "$(shared_images)/busybox/blobs/sha256/$layer" "$DIR/foreign/$layer"
}

# attest/busybox: an index whose first entry is an attestation manifest (platform
# unknown/unknown, vnd.docker.reference.type attestation-manifest), then linux/amd64.
seed_attestation() {
  local src token out
  src=$(shared_images)/busybox
  mkdir -p "$(dirname "$(registry_repo_dir attest/busybox)")"
  cp -a "$(registry_repo_dir library/busybox)" "$(registry_repo_dir attest/busybox)"
  token=$(curl -sf --cacert "$DIR/ca.crt" -u admin:adminpw \
    "https://127.0.0.1:$TOKEN/token?service=$SERVICE&scope=repository:attest/busybox:pull,push" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  out=$DIR/attest
  mkdir -p "$out"
  python3 - "$src" "$out" <<'PY'
import hashlib, json, sys
src, out = sys.argv[1:]
top = json.load(open(src + "/index.json"))
ref = [m for m in top["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "latest"][0]
idx = json.load(open(src + "/blobs/sha256/" + ref["digest"][7:]))
amd64 = [m for m in idx["manifests"] if m.get("platform", {}).get("architecture") == "amd64"][0]
man = json.load(open(src + "/blobs/sha256/" + amd64["digest"][7:]))
att = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": man["config"],
       "layers": [dict(man["config"], mediaType="application/vnd.in-toto+json")]}
att_b = json.dumps(att).encode()
att_d = "sha256:" + hashlib.sha256(att_b).hexdigest()
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [
             {"mediaType": att["mediaType"], "digest": att_d, "size": len(att_b),
              "platform": {"architecture": "unknown", "os": "unknown"},
              "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                              "vnd.docker.reference.digest": amd64["digest"]}},
             amd64]}
open(out + "/att.json", "wb").write(att_b)
open(out + "/att.digest", "w").write(att_d)
open(out + "/index.json", "w").write(json.dumps(index))
PY
  curl -sf --cacert "$DIR/ca.crt" -X PUT -H "Authorization: Bearer $token" \
    -H "Content-Type: application/vnd.oci.image.manifest.v1+json" --data-binary "@$out/att.json" \
    "https://127.0.0.1:$FRONT/v2/attest/busybox/manifests/$(cat "$out/att.digest")" >/dev/null ||
    die "push of the attestation manifest failed"
  curl -sf --cacert "$DIR/ca.crt" -X PUT -H "Authorization: Bearer $token" \
    -H "Content-Type: application/vnd.oci.image.index.v1+json" --data-binary "@$out/index.json" \
    "https://127.0.0.1:$FRONT/v2/attest/busybox/manifests/latest" >/dev/null ||
    die "push of the attest/busybox index failed"
}

cmd_start() {
  DIR=$1
  SUITE_REGISTRY=${2:-}
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  [[ -x $REGISTRY_BIN ]] || die "$REGISTRY_BIN not found (run tools/deps.sh)"
  [[ -x $NGINX_BIN ]] || die "$NGINX_BIN not found (run tools/deps.sh)"
  command -v htpasswd >/dev/null || die "htpasswd not found (apache2-utils; run tools/deps.sh)"
  mkdir -p "$DIR/data" "$DIR/nginx-tmp" "$DIR/badroot" "$DIR/foreign"

  REGISTRY=$(free_port)
  TOKEN_HTTP=$(free_port)
  TOKEN=$(free_port)
  FRONT=$(free_port)
  CDN=$(free_port)
  BASIC=$(free_port)
  PROXY=$(free_port)

  make_certs
  printf 'admin:adminpw\nalice:wonderland\n' >"$DIR/users"
  htpasswd -c -b -B "$DIR/htpasswd" alice wonderland 2>/dev/null
  htpasswd -b -B "$DIR/htpasswd" admin adminpw 2>/dev/null
  write_registry_config
  write_nginx_configs

  spawn "$DIR/token.pid" "$DIR/token-server.out" python3 "$HERE/token_server.py" \
    --port "$TOKEN_HTTP" --key "$DIR/token.key" --cert "$DIR/token.crt" \
    --users "$DIR/users" --service "$SERVICE" --issuer "$ISSUER" --log "$DIR/token.log"
  spawn "$DIR/registry.pid" "$DIR/registry.log" "$REGISTRY_BIN" serve "$DIR/registry.yml"
  spawn "$DIR/hub-nginx.pid" "$DIR/hub-nginx.out" "$NGINX_BIN" -e "$DIR/hub-error.log" \
    -p "$DIR" -c "$DIR/hub-nginx.conf"
  spawn "$DIR/cdn-nginx.pid" "$DIR/cdn-nginx.out" "$NGINX_BIN" -e "$DIR/cdn-error.log" \
    -p "$DIR" -c "$DIR/cdn-nginx.conf"

  wait_http "http://127.0.0.1:$TOKEN_HTTP/token" 400
  wait_http "http://127.0.0.1:$REGISTRY/v2/" 401
  wait_http "https://127.0.0.1:$FRONT/v2/" 401
  wait_http "https://127.0.0.1:$TOKEN/token" 400
  wait_http "https://127.0.0.1:$CDN/docker/" 403 404

  cat >"$DIR/env" <<ENV
HUB_DIR=$DIR
HUB_REGISTRY=127.0.0.1:$REGISTRY
HUB_TOKEN=127.0.0.1:$TOKEN
HUB_FRONT=127.0.0.1:$FRONT
HUB_CDN=127.0.0.1:$CDN
HUB_BASIC=127.0.0.1:$BASIC
HUB_PROXY=127.0.0.1:$PROXY
HUB_CA=$DIR/ca.crt
HUB_CERTS=$DIR/certs.d
HUB_CDN_PIDFILE=$DIR/cdn-nginx.pid
HUB_DATA=$DIR/data
HUB_SERVICE=$SERVICE
ENV
  seed
}

cmd_stop() {
  DIR=$1
  [[ -d $DIR ]] || return 0
  DIR=$(cd "$DIR" && pwd)
  local p
  for p in hub-nginx cdn-nginx registry token; do
    stop_pidfile "$DIR/$p.pid" "$DIR"
  done
}

(($# >= 2)) || die "usage: $0 start DIR [SUITE_REGISTRY] | stop DIR"
case $1 in
  start) cmd_start "$2" "${3:-}" ;;
  stop) cmd_stop "$2" ;;
  *) die "usage: $0 start DIR [SUITE_REGISTRY] | stop DIR" ;;
esac
