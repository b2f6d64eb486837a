#!/usr/bin/env bash
# Brings up the real-software interop environment on loopback (see interop/README.md).
# Run as root on Debian 12. Idempotent: a second run stops what the first started (down.sh),
# keeps keys and certificates, re-signs the zones and starts everything again.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${INTEROP_STATE:-$HERE/state}"
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
export INTEROP_STATE="$STATE"

# Addresses (all on 127.0.0.0/8; nothing listens elsewhere, nothing is sent elsewhere).
NSD_ADDR=127.0.0.53
UNBOUND_ADDR=127.0.0.54
NGINX_ADDR=127.0.0.55
MX_TLS_ADDR=127.0.0.60     # Postfix, STARTTLS with the private-CA certificate (DANE-EE target)
MX_PLAIN_ADDR=127.0.0.61   # Postfix, no STARTTLS

T0=${EPOCHREALTIME/./}
log() { local now=${EPOCHREALTIME/./}; printf '[up %5d ms] %s\n' $(( (now - T0) / 1000 )) "$*"; }
die() { echo "up.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"

# ---------------------------------------------------------------------------------------------
# 1. Packages
# ---------------------------------------------------------------------------------------------
PKGS=(nsd bind9-utils bind9-dnsutils unbound nginx postfix openssl curl netcat-openbsd ca-certificates util-linux)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  PRC=/usr/sbin/policy-rc.d
  prc_created=0
  if [ ! -e "$PRC" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$PRC"; chmod 755 "$PRC"; prc_created=1
    trap 'rm -f "$PRC"' EXIT
  fi
  if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then apt-get update -q; fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  if [ "$prc_created" = 1 ]; then rm -f "$PRC"; trap - EXIT; fi
fi
log "packages ready"

# ---------------------------------------------------------------------------------------------
# 2. Stop a previous run (by pid files only)
# ---------------------------------------------------------------------------------------------
"$HERE/down.sh" >/dev/null 2>&1 || true

mkdir -p "$STATE"/{run,logs,pki,keys,ds,zones/src,zones/signed,nsd,unbound,nginx/tmp,postfix/etc,postfix/data,postfix/spool,maildirs}
chmod 755 "$STATE" "$STATE/maildirs"
# the virtual(8) delivery agent writes as nobody:nogroup
chown 65534:65534 "$STATE/maildirs"
chown postfix:postfix "$STATE/postfix/data"
# everybody must be able to traverse down to the maildirs
d="$STATE"; while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done

# ---------------------------------------------------------------------------------------------
# 3. Private CA and certificates (kept across runs)
# ---------------------------------------------------------------------------------------------
PKI="$STATE/pki"
if [ ! -s "$PKI/ca.crt" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -subj "/CN=mailtls interop private CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
fi
issue_cert() { # name  SAN-list
  local name=$1 san=$2
  [ -s "$PKI/$name.crt" ] && return 0
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "/CN=${san%%,*}" 2>/dev/null
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
    "$(echo "$san" | sed 's/\([^,]*\)/DNS:\1/g')" > "$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 825 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  cat "$PKI/$name.crt" "$PKI/ca.crt" > "$PKI/$name.chain.pem"
  chmod 600 "$PKI/$name.key"
}
issue_cert mx "mx.dane-ee.test,mx.sts.test,mx.unsigned.test"
issue_cert mta-sts "mta-sts.sts.test"
# TLSA 3 1 1 of the Postfix listener's certificate (SHA-256 of the SubjectPublicKeyInfo)
TLSA_MX_311=$(openssl x509 -in "$PKI/mx.crt" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
echo "$TLSA_MX_311" > "$STATE/tlsa-mx-3-1-1.txt"
log "certificates ready (TLSA 3 1 1 $TLSA_MX_311)"

# ---------------------------------------------------------------------------------------------
# 4. Zones: private root ".", "test." and children, signed with dnssec-signzone
# ---------------------------------------------------------------------------------------------
SRC="$STATE/zones/src"; SIGNED="$STATE/zones/signed"; KEYS="$STATE/keys"; DS="$STATE/ds"
STS_ID=$(date -u +%Y%m%d%H%M%S)
echo "$STS_ID" > "$STATE/sts-id.txt"
SOA='@ 3600 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300'

cat > "$SRC/dane-ee.test.db" <<EOF
\$ORIGIN dane-ee.test.
\$TTL 300
$SOA
@ IN NS ns.test.
@ IN MX 10 mx.dane-ee.test.
mx IN A $MX_TLS_ADDR
_25._tcp.mx IN TLSA 3 1 1 $TLSA_MX_311
EOF

cat > "$SRC/unsigned.test.db" <<EOF
\$ORIGIN unsigned.test.
\$TTL 300
$SOA
@ IN NS ns.test.
@ IN MX 10 mx.unsigned.test.
mx IN A $MX_TLS_ADDR
; TLSA in an unsigned zone: must be ignored by DANE clients
_25._tcp.mx IN TLSA 3 1 1 $TLSA_MX_311
EOF

cat > "$SRC/sts.test.db" <<EOF
\$ORIGIN sts.test.
\$TTL 300
$SOA
@ IN NS ns.test.
@ IN MX 10 mx.sts.test.
mx IN A $MX_TLS_ADDR
mta-sts IN A $NGINX_ADDR
_mta-sts IN TXT "v=STSv1; id=$STS_ID"
EOF

SIGNED_CHILDREN=(dane-ee.test sts.test)
UNSIGNED_CHILDREN=(unsigned.test)

keygen() { # zone
  local z=$1 kd="$KEYS/$1"
  mkdir -p "$kd"
  if ! ls "$kd"/K*.key >/dev/null 2>&1; then
    dnssec-keygen -q -K "$kd" -a ECDSAP256SHA256 -f KSK -n ZONE "$z" >/dev/null
    dnssec-keygen -q -K "$kd" -a ECDSAP256SHA256 -n ZONE "$z" >/dev/null
  fi
}
sign() { # zone  srcfile
  local z=$1 src=$2 zf=${1%.}
  [ "$z" = . ] && zf=root
  keygen "$z"
  dnssec-signzone -q -S -K "$KEYS/$z" -d "$DS" -N unixtime -o "$z" -f "$SIGNED/$zf.signed" "$src" >/dev/null
}

for z in "${SIGNED_CHILDREN[@]}"; do sign "$z" "$SRC/$z.db"; done
for z in "${UNSIGNED_CHILDREN[@]}"; do cp "$SRC/$z.db" "$SIGNED/$z.signed"; done

{
  echo "\$ORIGIN test."
  echo "\$TTL 300"
  echo "$SOA"
  echo "@ IN NS ns.test."
  echo "ns IN A $NSD_ADDR"
  for z in "${SIGNED_CHILDREN[@]}" "${UNSIGNED_CHILDREN[@]}"; do echo "${z%.test} IN NS ns.test."; done
  for z in "${SIGNED_CHILDREN[@]}"; do cat "$DS/dsset-$z."; done
} > "$SRC/test.db"
sign test. "$SRC/test.db"

{
  echo "\$ORIGIN ."
  echo "\$TTL 300"
  echo ". 3600 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300"
  echo ". IN NS ns.test."
  echo "test. IN NS ns.test."
  echo "ns.test. IN A $NSD_ADDR"
  cat "$DS/dsset-test."
} > "$SRC/root.db"
sign . "$SRC/root.db"
cp "$DS/dsset-." "$STATE/root-anchor.ds"
log "zones signed"

# ---------------------------------------------------------------------------------------------
# 5. NSD (authoritative for ., test. and the children) on $NSD_ADDR:53
# ---------------------------------------------------------------------------------------------
{
  cat <<EOF
server:
    ip-address: $NSD_ADDR
    port: 53
    do-ip6: no
    username: ""
    chroot: ""
    server-count: 1
    database: ""
    zonelistfile: "$STATE/nsd/zone.list"
    xfrdfile: "$STATE/nsd/xfrd.state"
    xfrdir: "$STATE/nsd"
    pidfile: "$STATE/run/nsd.pid"
    logfile: "$STATE/logs/nsd.log"
    zonesdir: "$SIGNED"
    verbosity: 1
    hide-version: yes
remote-control:
    control-enable: no
zone:
    name: "."
    zonefile: "root.signed"
zone:
    name: "test."
    zonefile: "test.signed"
EOF
  for z in "${SIGNED_CHILDREN[@]}" "${UNSIGNED_CHILDREN[@]}"; do
    printf 'zone:\n    name: "%s."\n    zonefile: "%s.signed"\n' "$z" "$z"
  done
} > "$STATE/nsd/nsd.conf"
nsd-checkconf "$STATE/nsd/nsd.conf"
nsd -c "$STATE/nsd/nsd.conf"
log "nsd started"

# ---------------------------------------------------------------------------------------------
# 6. Unbound (validating resolver, private root as trust anchor) on $UNBOUND_ADDR:53
# ---------------------------------------------------------------------------------------------
cat > "$STATE/unbound/root.hints" <<EOF
. 3600000 IN NS ns.test.
ns.test. 3600000 IN A $NSD_ADDR
EOF
cat > "$STATE/unbound/unbound.conf" <<EOF
server:
    interface: $UNBOUND_ADDR
    port: 53
    outgoing-interface: $UNBOUND_ADDR
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    username: ""
    chroot: ""
    directory: "$STATE/unbound"
    pidfile: "$STATE/run/unbound.pid"
    logfile: "$STATE/logs/unbound.log"
    use-syslog: no
    verbosity: 1
    val-log-level: 2
    do-daemonize: yes
    root-hints: "$STATE/unbound/root.hints"
    trust-anchor-file: "$STATE/root-anchor.ds"
    module-config: "validator iterator"
    do-not-query-localhost: no
    local-zone: "test." nodefault
    qname-minimisation: no
    harden-dnssec-stripped: yes
    cache-max-ttl: 60
    cache-max-negative-ttl: 5
    num-threads: 1
remote-control:
    control-enable: no
EOF
unbound-checkconf "$STATE/unbound/unbound.conf" >/dev/null
unbound -c "$STATE/unbound/unbound.conf"
printf 'nameserver %s\noptions trust-ad edns0\n' "$UNBOUND_ADDR" > "$STATE/resolv.conf"
log "unbound started"

# ---------------------------------------------------------------------------------------------
# 7. nginx: MTA-STS policy for sts.test on $NGINX_ADDR:443
# ---------------------------------------------------------------------------------------------
cat > "$STATE/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $STATE/run/nginx.pid;
error_log $STATE/logs/nginx-error.log info;
events { worker_connections 64; }
http {
    access_log $STATE/logs/nginx-access.log;
    client_body_temp_path $STATE/nginx/tmp/body;
    proxy_temp_path $STATE/nginx/tmp/proxy;
    fastcgi_temp_path $STATE/nginx/tmp/fastcgi;
    uwsgi_temp_path $STATE/nginx/tmp/uwsgi;
    scgi_temp_path $STATE/nginx/tmp/scgi;
    server_tokens off;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {
        listen $NGINX_ADDR:443 ssl default_server;
        server_name mta-sts.sts.test;
        ssl_certificate $PKI/mta-sts.chain.pem;
        ssl_certificate_key $PKI/mta-sts.key;
        location = /.well-known/mta-sts.txt {
            default_type text/plain;
            return 200 "version: STSv1\r\nmode: enforce\r\nmx: mx.sts.test\r\nmax_age: 86400\r\n";
        }
        location / { return 404; }
    }
}
EOF
nginx -t -q -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -e "$STATE/logs/nginx-error.log"
nginx -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -e "$STATE/logs/nginx-error.log"
log "nginx started"

# ---------------------------------------------------------------------------------------------
# 8. Postfix with a private config directory
# ---------------------------------------------------------------------------------------------
PF="$STATE/postfix/etc"
MAILDOMAINS="dane-ee.test unsigned.test sts.test"
cat > "$PF/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $STATE/postfix/spool
data_directory = $STATE/postfix/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $STATE/logs/postfix.log
maillog_file_prefixes = $STATE/logs
myhostname = mx.interop.test
mydomain = interop.test
myorigin = \$myhostname
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
biff = no
alias_maps =
alias_database =
append_dot_mydomain = no
smtpd_peername_lookup = no
smtpd_banner = \$myhostname ESMTP
# accept only for the test domains; never relay, never send anything out
relay_domains =
relayhost =
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
default_transport = error:interop: no outbound delivery
relay_transport = error:interop: no outbound delivery
local_transport = error:interop: no local delivery
virtual_mailbox_domains = $MAILDOMAINS
virtual_mailbox_base = $STATE/maildirs
virtual_mailbox_maps = texthash:$PF/vmailbox
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
# TLS (server side)
smtpd_tls_security_level = may
smtpd_tls_cert_file = $PKI/mx.chain.pem
smtpd_tls_key_file = $PKI/mx.key
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
# client side settings (used by posttls-finger with MAIL_CONFIG=$PF)
smtp_dns_support_level = dnssec
smtp_tls_security_level = dane
smtp_tls_loglevel = 1
smtp_tls_CAfile = $PKI/ca.crt
EOF
# every address of a test domain -> one Maildir per domain: maildirs/<domain>/{new,cur,tmp}
# (virtual(8) refuses regexp substitution, so a per-domain catch-all in a texthash table)
for d in $MAILDOMAINS; do printf '@%s %s/\n' "$d" "$d"; done > "$PF/vmailbox"
cat > "$PF/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
$MX_TLS_ADDR:smtp inet  n       -       n       -       -       smtpd
$MX_PLAIN_ADDR:smtp inet n      -       n       -       -       smtpd -o smtpd_tls_security_level=none
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
for d in $MAILDOMAINS; do install -d -o 65534 -g 65534 "$STATE/maildirs/$d"; done
export MAIL_CONFIG="$PF"
postfix -c "$PF" check >>"$STATE/logs/postfix-start.log" 2>&1 || { cat "$STATE/logs/postfix-start.log" >&2; die "postfix check failed"; }
touch "$STATE/postfix/spool/quick-start"   # "postfix check" just ran: skip its repeat in "postfix start"
postfix -c "$PF" start >>"$STATE/logs/postfix-start.log" 2>&1 || { cat "$STATE/logs/postfix-start.log" "$STATE/logs/postfix.log" >&2; die "postfix start failed"; }
# master writes its pid under the queue directory; record it with the others
for _ in $(seq 1 50); do [ -s "$STATE/postfix/spool/pid/master.pid" ] && break; sleep 0.1; done
[ -s "$STATE/postfix/spool/pid/master.pid" ] || die "postfix master did not write its pid file"
tr -d ' ' < "$STATE/postfix/spool/pid/master.pid" > "$STATE/run/postfix-master.pid"
log "postfix started"

# ---------------------------------------------------------------------------------------------
# 9. Smoke check
# ---------------------------------------------------------------------------------------------
wait_port() { # addr port
  for _ in $(seq 1 50); do nc -z -w1 "$1" "$2" 2>/dev/null && return 0; sleep 0.1; done
  die "nothing listens on $1:$2"
}
wait_port $NSD_ADDR 53; wait_port $UNBOUND_ADDR 53; wait_port $NGINX_ADDR 443
wait_port $MX_TLS_ADDR 25; wait_port $MX_PLAIN_ADDR 25
"$HERE/smoke.sh"
log "up: all smoke checks passed"
