#!/usr/bin/env bash
# Brings up the real-software interop environment on loopback (see interop/README.md).
# Run as root on Debian 12. Idempotent: a second run stops what the first started (down.sh),
# keeps keys and certificates, re-signs the zones and starts everything again.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# The state directory. Postfix's and nginx's unprivileged processes must reach the queue and the
# maildirs whatever the permissions above the checkout (/root is 0700), and nothing outside the
# project may be changed to let them: by default the state lives in a root-owned directory under
# /var/tmp named after the checkout, and interop/state is a symbolic link to it.
MARKER=.mailtls-interop-state   # in every state directory up.sh made; it never touches another
[ "$(id -u)" = 0 ] || { echo "up.sh: must run as root" >&2; exit 1; }
if [ -z "${INTEROP_STATE:-}" ]; then
  REAL="/var/tmp/mailtls-interop-$(printf '%s' "$HERE" | sha256sum | cut -c1-12)"
  [ -e "$REAL" ] || [ -L "$REAL" ] || mkdir -m 755 "$REAL"
  # created by root, or refused: /var/tmp is world-writable, anybody could have made the name
  if [ -L "$REAL" ] || [ ! -d "$REAL" ] || [ "$(stat -c %u:%a "$REAL")" != 0:755 ]; then
    echo "up.sh: $REAL is not a root-owned directory of mode 755; remove it" >&2; exit 1
  fi
  touch "$REAL/$MARKER"
  if [ -L "$HERE/state" ] && [ "$(readlink -f "$HERE/state")" != "$REAL" ]; then
    # the link points at another state (the checkout moved): stop what that one started
    INTEROP_STATE="$(readlink -f "$HERE/state")" "$HERE/down.sh" || true
  elif [ -d "$HERE/state" ] && [ ! -L "$HERE/state" ]; then
    # a state directory from before the link: stop what it started, then replace it
    INTEROP_STATE="$HERE/state" "$HERE/down.sh" || true
    rm -rf "$HERE/state"
  fi
  ln -sfn "$REAL" "$HERE/state"
  STATE="$REAL"
else
  # a directory of the user's choice: only an empty one, or one up.sh made before
  if [ -d "$INTEROP_STATE" ] && [ -n "$(ls -A "$INTEROP_STATE")" ] \
     && [ ! -e "$INTEROP_STATE/$MARKER" ]; then
    echo "up.sh: INTEROP_STATE=$INTEROP_STATE is not empty and not an interop state directory" >&2
    exit 1
  fi
  mkdir -p "$INTEROP_STATE"
  STATE="$(cd "$INTEROP_STATE" && pwd -P)"
  touch "$STATE/$MARKER"
fi
export INTEROP_STATE="$STATE"

# Addresses (all on 127.0.0.0/8; nothing listens elsewhere, nothing is sent elsewhere).
NSD_ADDR=127.0.0.53
UNBOUND_ADDR=127.0.0.54
NGINX_ADDR=127.0.0.55
MX_TLS_ADDR=127.0.0.60     # Postfix, STARTTLS, leaf from the private PKIX CA naming every MX host on it
MX_PLAIN_ADDR=127.0.0.61   # Postfix, no STARTTLS
MX_TA_ADDR=127.0.0.62      # Postfix, STARTTLS, chain leaf <- intermediate <- DANE-TA root (not a PKIX CA)
MX_SELF_ADDR=127.0.0.63    # Postfix, STARTTLS, self-signed certificate
MX_NONAME_ADDR=127.0.0.64  # Postfix, STARTTLS, private-CA leaf that names none of its MX hosts
HOSTILE_DATA_ADDR=127.0.0.65  # hostile-smtp.sh data250 (socat): answers DATA with 250
HOSTILE_EHLO_ADDR=127.0.0.66  # hostile-smtp.sh ehlo251 (socat): answers EHLO with 251
DEAD_ADDR=127.0.0.69       # nothing listens here: MX failover (connection refused)

T0=${EPOCHREALTIME/./}
log() { local now=${EPOCHREALTIME/./}; printf '[up %5d ms] %s\n' $(( (now - T0) / 1000 )) "$*"; }
die() { echo "up.sh: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"

# ---------------------------------------------------------------------------------------------
# 1. Packages
# ---------------------------------------------------------------------------------------------
# redis-server: mailtls-redis's unit tests start their own (loopback, a free port, never 6379); the
# policy-rc.d below keeps the package from starting the system instance.
PKGS=(nsd bind9-utils bind9-dnsutils unbound nginx postfix swaks libnet-ssleay-perl openssl curl netcat-openbsd ca-certificates util-linux iproute2 socat python3 python3-dkim redis-server)
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
mkdir -p "$STATE/logs"
"$HERE/down.sh" >"$STATE/logs/down.log" 2>&1 || { cat "$STATE/logs/down.log" >&2; die "down.sh failed"; }

# Every address:port used here must be free (a wildcard listener, e.g. a system Postfix on
# 0.0.0.0:25 or systemd-resolved on 127.0.0.53:53, would make a bind fail): wait a little for
# daemons just stopped, then name what is in the way.
busy() { # ss shows a socket bound to a device as ADDR%dev:port (systemd-resolved: 127.0.0.53%lo:53)
  local any='(0\.0\.0\.0|\*)'
  {
    ss -Hltun 2>/dev/null | awk '{print $5}' \
      | grep -E "^($any|${NSD_ADDR//./\\.}|${UNBOUND_ADDR//./\\.})(%[^:]*)?:53\$"
    ss -Hltn 2>/dev/null | awk '{print $4}' \
      | grep -E "^($any|${NGINX_ADDR//./\\.})(%[^:]*)?:443\$|^($any|127\.0\.0\.6[0-6])(%[^:]*)?:25\$"
  } || true
}
for _ in $(seq 1 50); do [ -z "$(busy)" ] && break; sleep 0.1; done
if [ -n "$(busy)" ]; then
  ss -Hltunp 2>/dev/null | grep -F "$(busy | head -1)" >&2 || true
  die "address in use: $(busy | tr '\n' ' ')(stop what listens there, or it is not our environment)"
fi

mkdir -p "$STATE"/{run,logs,pki,keys,ds,zones/src,zones/signed,nsd,unbound,nginx/tmp,postfix/etc,postfix/data,postfix/spool,maildirs}
# a fresh start for what the tests read: the previous run's mail and logs are kept once, as *.1
rm -rf "$STATE/maildirs.1" "$STATE/logs.1"
mv "$STATE/maildirs" "$STATE/maildirs.1"; mv "$STATE/logs" "$STATE/logs.1"
mkdir -p "$STATE/maildirs" "$STATE/logs"
mv "$STATE/logs.1/down.log" "$STATE/logs/" 2>/dev/null || true
chmod 755 "$STATE" "$STATE/maildirs"
chown postfix:postfix "$STATE/postfix/data"
# unprivileged processes must be able to traverse down to the queue and the maildirs
runuser -u nobody -- test -x "$STATE/maildirs" \
  || die "user nobody cannot reach $STATE/maildirs: choose an INTEROP_STATE whose parents are traversable"

# ---------------------------------------------------------------------------------------------
# 3. Certificates (kept across runs; a leaf is re-issued when its names change)
#    ca        private PKIX CA: trusted for MTA-STS (policy hosts and MX hosts) and posttls-finger -F
#    ta-root   DANE-TA trust anchor, a CA nobody trusts for PKIX; ta-int its intermediate
#    untrusted a second self-signed CA, trusted by nobody (the untrusted MTA-STS policy host)
# ---------------------------------------------------------------------------------------------
PKI="$STATE/pki"
# a CA certificate without its key cannot issue anything: start the PKI again
for c in ca ta-root ta-int untrusted; do
  if [ -e "$PKI/$c.crt" ] && [ ! -s "$PKI/$c.key" ]; then rm -rf "$PKI"; mkdir -p "$PKI"; break; fi
done
new_ca() { # name subject [issuer]  (self-signed root without issuer; otherwise an intermediate)
  local name=$1 subj=$2 issuer=${3:-}
  [ -s "$PKI/$name.crt" ] && [ -s "$PKI/$name.key" ] && return 0
  if [ -z "$issuer" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -keyout "$PKI/$name.key" -out "$PKI/$name.crt" -subj "/CN=$subj" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  else
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "/CN=$subj" 2>/dev/null
    printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > "$PKI/$name.ext"
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$issuer.crt" -CAkey "$PKI/$issuer.key" \
      -CAcreateserial -days 3650 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  fi
  chmod 600 "$PKI/$name.key"
}
issue_cert() { # name  issuer|self  SAN-list (comma separated)  -> name.crt, name.key, name.chain.pem
  local name=$1 issuer=$2 san=$3 sanext
  # kept unless its names changed or it expires within 30 days
  if [ -s "$PKI/$name.crt" ] && [ -s "$PKI/$name.key" ] \
     && [ "$(cat "$PKI/$name.san" 2>/dev/null)" = "$issuer $san" ] \
     && openssl x509 -in "$PKI/$name.crt" -noout -checkend 2592000 >/dev/null; then return 0; fi
  sanext="subjectAltName=$(echo "$san" | sed 's/\([^,]*\)/DNS:\1/g')"
  if [ "$issuer" = self ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
      -keyout "$PKI/$name.key" -out "$PKI/$name.crt" -subj "/CN=${san%%,*}" -addext "$sanext" \
      -addext "basicConstraints=critical,CA:FALSE" -addext "extendedKeyUsage=serverAuth" 2>/dev/null
    cp "$PKI/$name.crt" "$PKI/$name.chain.pem"
  else
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$PKI/$name.key" -out "$PKI/$name.csr" -subj "/CN=${san%%,*}" 2>/dev/null
    printf '%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' \
      "$sanext" > "$PKI/$name.ext"
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$issuer.crt" -CAkey "$PKI/$issuer.key" -CAcreateserial \
      -days 825 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
    # the chain a server presents: leaf, then every CA up to and including the root (a DANE-TA
    # "2 x 1" anchor must be in the chain, RFC 7671 section 5.2.2)
    cat "$PKI/$name.crt" > "$PKI/$name.chain.pem"
    local c=$issuer
    while [ -n "$c" ]; do
      cat "$PKI/$c.crt" >> "$PKI/$name.chain.pem"
      c=$(cat "$PKI/$c.parent" 2>/dev/null || true)
    done
  fi
  chmod 600 "$PKI/$name.key"
  echo "$issuer $san" > "$PKI/$name.san"
}
new_ca ca "mailtls interop private CA"
new_ca ta-root "mailtls interop DANE-TA root"
new_ca ta-int "mailtls interop DANE-TA intermediate" ta-root; echo ta-root > "$PKI/ta-int.parent"
new_ca untrusted "mailtls interop untrusted CA"

# MX hosts on each listener (their certificates name exactly these, except the no-name listener)
MX_ON_TLS="mx.dane-ee.test,mx.rpt-dane.test,mx2.rpt-sts.test,mx.rpt-reports.test,mx.dane-wrong.test,mx.dane-unusable.test,mx2.failover.test,mx1.failover.test,mx.unsigned.test,mx.bogus-expired.test,mx.bogus-ds.test,mx.bogus-mx-sig.test,mx.bogus-tlsa-sig.test,mx.sts.test,mx1.wild.sts-wildcard.test,a.b.wild.sts-wildcard.test,mx.sts-none.test,mx.sts-mx-mismatch.test,mx.sts-redirect.test,mx.sts-ctype.test,mx.sts-malformed.test,mx.sts-404.test,mx.sts-untrusted.test,mx.sts-nohost.test,mx.sts-badtxt.test"
MX_ON_TA="mx.dane-ta.test,mx.dane-ta-spki.test"
MX_ON_SELF="mx.dane-self.test,mx.selfsigned.test,mx.sts-selfsigned.test,mx1.rpt-sts.test"
STS_DOMAINS="insecure-mx-sts.test sts.test sts-testing.test sts-none.test sts-wildcard.test sts-mx-mismatch.test sts-redirect.test sts-ctype.test sts-malformed.test sts-404.test sts-badtxt.test sts-selfsigned.test sts-noname.test sts-nostarttls.test rpt-sts.test"
issue_cert mx ca "$MX_ON_TLS"
issue_cert ta-leaf ta-int "$MX_ON_TA"
issue_cert self self "$MX_ON_SELF"
issue_cert noname ca "wrong-name.interop.test"
issue_cert mta-sts ca "$(for d in $STS_DOMAINS; do printf 'mta-sts.%s,' "$d"; done | sed 's/,$//')"
issue_cert mta-sts-untrusted untrusted "mta-sts.sts-untrusted.test"

spki_sha256() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1; }
cert_sha256() { openssl x509 -in "$1" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1; }
TLSA_MX_311=$(spki_sha256 "$PKI/mx.crt")
TLSA_SELF_311=$(spki_sha256 "$PKI/self.crt")
TLSA_TAROOT_201=$(cert_sha256 "$PKI/ta-root.crt")
TLSA_TAINT_211=$(spki_sha256 "$PKI/ta-int.crt")
TLSA_WRONG_311=$(printf 'no such key %s' "$(date +%s%N)" | openssl dgst -sha256 -r | cut -d' ' -f1)
echo "$TLSA_MX_311" > "$STATE/tlsa-mx-3-1-1.txt"
log "certificates ready"

# ---------------------------------------------------------------------------------------------
# 4. Zones: a private root ".", "test." and one delegated child zone per scenario domain
#    (interop/README.md has the table). Signed with dnssec-signzone; the bogus ones are broken
#    on purpose after (or while) signing.
# ---------------------------------------------------------------------------------------------
SRC="$STATE/zones/src"; SIGNED="$STATE/zones/signed"; KEYS="$STATE/keys"; DS="$STATE/ds"
rm -f "$SRC"/*.db "$SIGNED"/*.signed "$DS"/dsset-*
STS_ID=$(date -u +%Y%m%d%H%M%S)
echo "$STS_ID" > "$STATE/sts-id.txt"
SOA='@ 3600 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300'

# kind: signed | unsigned | expired (signatures expired in 2020) | badds (the DS in test. matches no
# key of the zone) | badsig-mx (RRSIG over the MX RRset corrupted) | badsig-tlsa (RRSIG over TLSA)
declare -A KIND=()
ZONES=()
zone() { # name kind; records on stdin
  KIND[$1]=$2; ZONES+=("$1")
  { echo "\$ORIGIN $1."; echo "\$TTL 300"; echo "$SOA"; echo "@ IN NS ns.test."; cat; } > "$SRC/$1.db"
}
tlsa() { echo "_25._tcp.$1 IN TLSA $2"; }

# --- DANE (signed) ---------------------------------------------------------------------------
zone dane-ee.test signed <<Z
@ IN MX 10 mx
mx IN A $MX_TLS_ADDR
$(tlsa mx "3 1 1 $TLSA_MX_311")
Z
zone dane-ta.test signed <<Z
@ IN MX 10 mx
mx IN A $MX_TA_ADDR
$(tlsa mx "2 0 1 $TLSA_TAROOT_201")
Z
zone dane-ta-spki.test signed <<Z
@ IN MX 10 mx
mx IN A $MX_TA_ADDR
$(tlsa mx "2 1 1 $TLSA_TAINT_211")
Z
zone dane-ta-noname.test signed <<Z
@ IN MX 10 mx
mx IN A $MX_TA_ADDR
$(tlsa mx "2 0 1 $TLSA_TAROOT_201")
Z
zone dane-wrong.test signed <<Z
@ IN MX 10 mx
mx IN A $MX_TLS_ADDR
$(tlsa mx "3 1 1 $TLSA_WRONG_311")
Z
# secure TLSA records, none usable (PKIX-EE is not for SMTP, RFC 7672 §3.1.3): TLS mandatory,
# unauthenticated
zone dane-unusable.test signed <<Z
@ IN MX 10 mx
mx IN A $MX_TLS_ADDR
$(tlsa mx "1 1 1 $TLSA_MX_311")
Z
zone dane-unusable-plain.test signed <<Z
@ IN MX 10 mx
mx IN A $MX_PLAIN_ADDR
$(tlsa mx "1 1 1 $TLSA_MX_311")
Z
zone dane-nostarttls.test signed <<Z
@ IN MX 10 mx
mx IN A $MX_PLAIN_ADDR
$(tlsa mx "3 1 1 $TLSA_MX_311")
Z
zone dane-self.test signed <<Z
@ IN MX 10 mx
mx IN A $MX_SELF_ADDR
$(tlsa mx "3 1 1 $TLSA_SELF_311")
Z
zone failover.test signed <<Z
@ IN MX 10 mx1
@ IN MX 20 mx2
mx1 IN A $DEAD_ADDR
mx2 IN A $MX_TLS_ADDR
$(tlsa mx1 "3 1 1 $TLSA_MX_311")
$(tlsa mx2 "3 1 1 $TLSA_MX_311")
Z
# --- no DNSSEC ---------------------------------------------------------------------------------
zone unsigned.test unsigned <<Z
@ IN MX 10 mx
mx IN A $MX_TLS_ADDR
; TLSA in an unsigned zone: must be ignored by DANE clients
$(tlsa mx "3 1 1 $TLSA_MX_311")
Z
zone plain.test unsigned <<Z
@ IN MX 10 mx
mx IN A $MX_PLAIN_ADDR
Z
zone selfsigned.test unsigned <<Z
@ IN MX 10 mx
mx IN A $MX_SELF_ADDR
Z
# an unsigned domain whose (forgeable) MX answer names a signed host with usable TLSA: DANE at
# opportunistic/enforced (TRUSTED), never at dane-required (RFC 7672 section 2.2.1, 6)
# hostile SMTP peers (not Postfix): the transport must defer, never report delivery
zone hostile-data.test unsigned <<Z
@ IN MX 10 mx
mx IN A $HOSTILE_DATA_ADDR
Z
zone hostile-ehlo.test unsigned <<Z
@ IN MX 10 mx
mx IN A $HOSTILE_EHLO_ADDR
Z
zone insecure-mx.test unsigned <<Z
@ IN MX 10 mx.dane-ee.test.
Z
# --- bogus -------------------------------------------------------------------------------------
for z in bogus-expired bogus-ds bogus-mx-sig bogus-tlsa-sig; do
  case $z in bogus-expired) k=expired ;; bogus-ds) k=badds ;; bogus-mx-sig) k=badsig-mx ;; *) k=badsig-tlsa ;; esac
  zone $z.test $k <<Z
@ IN MX 10 mx
mx IN A $MX_TLS_ADDR
$(tlsa mx "3 1 1 $TLSA_MX_311")
Z
done
# --- MTA-STS (signed, no TLSA: DANE does not apply) ---------------------------------------------
sts_zone() { # domain mx-host-records... (policy host and TXT added unless told otherwise)
  local d=$1 txt=${STS_TXT:-"v=STSv1; id=$STS_ID"} host=${STS_HOST:-yes} records; shift
  records=$(printf '%s\n' "$@")
  [ "$host" = yes ] && records+=$'\n'"mta-sts IN A $NGINX_ADDR"
  zone "$d" "${STS_KIND:-signed}" <<< "$records"$'\n'"_mta-sts IN TXT \"$txt\""
}
sts_zone sts.test            "@ IN MX 10 mx" "mx IN A $MX_TLS_ADDR"
sts_zone sts-testing.test    "@ IN MX 10 mx" "mx IN A $MX_NONAME_ADDR"
sts_zone sts-none.test       "@ IN MX 10 mx" "mx IN A $MX_TLS_ADDR"
sts_zone sts-wildcard.test   "@ IN MX 5 a.b.wild" "@ IN MX 10 mx1.wild" "a.b.wild IN A $MX_TLS_ADDR" "mx1.wild IN A $MX_TLS_ADDR"
sts_zone sts-mx-mismatch.test "@ IN MX 10 mx" "mx IN A $MX_TLS_ADDR"
sts_zone sts-redirect.test   "@ IN MX 10 mx" "mx IN A $MX_TLS_ADDR"
sts_zone sts-ctype.test      "@ IN MX 10 mx" "mx IN A $MX_TLS_ADDR"
sts_zone sts-malformed.test  "@ IN MX 10 mx" "mx IN A $MX_TLS_ADDR"
sts_zone sts-404.test        "@ IN MX 10 mx" "mx IN A $MX_TLS_ADDR"
sts_zone sts-untrusted.test  "@ IN MX 10 mx" "mx IN A $MX_TLS_ADDR"
STS_HOST=no sts_zone sts-nohost.test "@ IN MX 10 mx" "mx IN A $MX_TLS_ADDR"
STS_TXT="v=STSv1; id=not-an-id!" sts_zone sts-badtxt.test "@ IN MX 10 mx" "mx IN A $MX_TLS_ADDR"
sts_zone sts-selfsigned.test "@ IN MX 10 mx" "mx IN A $MX_SELF_ADDR"
sts_zone sts-noname.test     "@ IN MX 10 mx" "mx IN A $MX_NONAME_ADDR"
sts_zone sts-nostarttls.test "@ IN MX 10 mx" "mx IN A $MX_PLAIN_ADDR"
# unsigned, an enforce policy naming mx.insecure-mx-sts.test, and an MX answer naming the signed
# DANE host mx.dane-ee.test instead (a forged answer's shape): no level may deliver there
# (RFC 8461 sections 4.1, 5.1)
STS_KIND=unsigned sts_zone insecure-mx-sts.test "@ IN MX 10 mx.dane-ee.test."
SCENARIO_ZONES=("${ZONES[@]}")
# --- TLS-RPT (RFC 8460; not scenarios of the table: TlsRptInteropTest uses them) ---------------
# Both policy domains ask for reports by mail to rpt-reports.test (a Postfix maildir); the
# reports are DKIM-signed for rpt-sender.test, whose key is published here for the verifier.
RPT_TXT='_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@rpt-reports.test"'
zone rpt-dane.test signed <<Z
@ IN MX 10 mx
mx IN A $MX_TLS_ADDR
$(tlsa mx "3 1 1 $TLSA_MX_311")
$RPT_TXT
Z
# an enforce policy naming two MX hosts: the preferred one presents a self-signed certificate
# (a failed session, certificate-not-trusted), the second one delivers
sts_zone rpt-sts.test "@ IN MX 10 mx1" "@ IN MX 20 mx2" "mx1 IN A $MX_SELF_ADDR" \
  "mx2 IN A $MX_TLS_ADDR" "$RPT_TXT"
zone rpt-reports.test signed <<Z
@ IN MX 10 mx
mx IN A $MX_TLS_ADDR
$(tlsa mx "3 1 1 $TLSA_MX_311")
Z
DKIM_DIR="$STATE/dkim"; mkdir -p "$DKIM_DIR"
[ -f "$DKIM_DIR/rpt-sender.key" ] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
  -out "$DKIM_DIR/rpt-sender.key" 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$DKIM_DIR/rpt-sender.key" -outform DER -out "$DKIM_DIR/rpt-sender.pk8"
DKIM_P=$(openssl pkey -in "$DKIM_DIR/rpt-sender.key" -pubout -outform DER | base64 -w0)
# a TXT string holds at most 255 octets (RFC 1035 section 3.3.14): split the key
DKIM_TXT=$(printf 'v=DKIM1; k=rsa; s=tlsrpt; p=%s' "$DKIM_P" | fold -w 200 | sed 's/.*/"&"/' | tr '\n' ' ')
zone rpt-sender.test signed <<Z
@ IN MX 10 mx
mx IN A $MX_TLS_ADDR
$(tlsa mx "3 1 1 $TLSA_MX_311")
mailtls._domainkey IN TXT $DKIM_TXT
Z
MAILDOMAINS="${ZONES[*]}"
# one Maildir per domain, owned by nobody:nogroup as the virtual(8) agent writes; the base stays
# root's (made before any unprivileged daemon runs, so none can plant a link in it)
for d in $MAILDOMAINS; do install -d -o 65534 -g 65534 -m 700 "$STATE/maildirs/$d"; done

keygen() { # zone [keydir]
  local z=$1 kd=${2:-$KEYS/$1}
  mkdir -p "$kd"
  if ! ls "$kd"/K*.key >/dev/null 2>&1; then
    dnssec-keygen -q -K "$kd" -a ECDSAP256SHA256 -f KSK -n ZONE "$z" >/dev/null
    dnssec-keygen -q -K "$kd" -a ECDSAP256SHA256 -n ZONE "$z" >/dev/null
  fi
}
sign() { # zone srcfile [extra dnssec-signzone options]
  local z=$1 src=$2 zf=${1%.}; shift 2
  [ "$z" = . ] && zf=root
  keygen "$z"
  dnssec-signzone -q -S -K "$KEYS/$z" -d "$DS" -N unixtime -O full -o "$z" -f "$SIGNED/$zf.signed" "$@" "$src" >/dev/null
}
corrupt_rrsig() { # signed-file owner covered-type: flip one base64 character of that RRSIG's signature
  awk -v owner="$2" -v type="$3" '
    $1 == owner && $4 == "RRSIG" && $5 == type && !done {
      c = substr($NF, 1, 1); $NF = (c == "A" ? "B" : "A") substr($NF, 2); done = 1
    }
    { print }
    END { if (!done) exit 3 }' "$1" > "$1.tmp" || die "no RRSIG $3 at $2 in $1"
  mv "$1.tmp" "$1"
}

SIGNED_CHILDREN=(); UNSIGNED_CHILDREN=()
for z in "${ZONES[@]}"; do
  case ${KIND[$z]} in
    unsigned) cp "$SRC/$z.db" "$SIGNED/$z.signed"; UNSIGNED_CHILDREN+=("$z"); continue ;;
    expired)  sign "$z." "$SRC/$z.db" -P -s 20200101000000 -e 20200201000000 ;;
    badds)
      sign "$z." "$SRC/$z.db"
      keygen "$z." "$KEYS/$z.-decoy"   # a KSK that never signs anything: its DS goes to the parent
      dnssec-dsfromkey -a SHA-256 "$(ls "$KEYS/$z.-decoy"/K*.key | while read -r k; do grep -q ' 257 ' "$k" && echo "$k"; done | head -1)" \
        > "$DS/dsset-$z."
      ;;
    badsig-mx)   sign "$z." "$SRC/$z.db"; corrupt_rrsig "$SIGNED/$z.signed" "$z." MX ;;
    badsig-tlsa) sign "$z." "$SRC/$z.db"; corrupt_rrsig "$SIGNED/$z.signed" "_25._tcp.mx.$z." TLSA ;;
    *) sign "$z." "$SRC/$z.db" ;;
  esac
  SIGNED_CHILDREN+=("$z")
done

{
  echo "\$ORIGIN test."
  echo "\$TTL 300"
  echo "$SOA"
  echo "@ IN NS ns.test."
  echo "ns IN A $NSD_ADDR"
  for z in "${ZONES[@]}"; do echo "${z%.test} IN NS ns.test."; done
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

# facts the tests read (nothing in the tests is hard-coded)
cat > "$STATE/facts.properties" <<P
sts.id=$STS_ID
tlsa.mx.311=$TLSA_MX_311
tlsa.self.311=$TLSA_SELF_311
tlsa.taroot.201=$TLSA_TAROOT_201
tlsa.taint.211=$TLSA_TAINT_211
tlsa.wrong.311=$TLSA_WRONG_311
domains=${SCENARIO_ZONES[*]}
feature.domains=rpt-dane.test rpt-sts.test rpt-reports.test rpt-sender.test
dkim.selector=mailtls
dkim.domain=rpt-sender.test
P
log "zones signed (${#SIGNED_CHILDREN[@]} signed, ${#UNSIGNED_CHILDREN[@]} unsigned children)"

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
# 7. nginx: MTA-STS policy hosts on $NGINX_ADDR:443, one server block per domain (SNI)
# ---------------------------------------------------------------------------------------------
policy() { # mode mx-pattern...  -> an RFC 8461 policy body, CRLF line ends, as an nginx string
  local mode=$1 out; shift
  out="version: STSv1\r\nmode: $mode\r\n"
  for m in "$@"; do out+="mx: $m\r\n"; done
  printf '%s' "${out}max_age: 86400\r\n"
}
vhost() { # domain location-body [certificate-name] [more locations]
  local d=$1 body=$2 cert=${3:-mta-sts} more=${4:-}
  cat <<V
    server {
        listen $NGINX_ADDR:443 ssl;
        server_name mta-sts.$d;
        ssl_certificate $PKI/$cert.chain.pem;
        ssl_certificate_key $PKI/$cert.key;
        location = /.well-known/mta-sts.txt {
$body
        }
$more
        location / { return 404; }
    }
V
}
serve() { printf '            default_type text/plain;\n            return 200 "%s";' "$(policy "$@")"; }
{
  cat <<EOF2
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
    # unknown names: no policy host here
    server {
        listen $NGINX_ADDR:443 ssl default_server;
        ssl_certificate $PKI/noname.chain.pem;
        ssl_certificate_key $PKI/noname.key;
        return 421;
    }
EOF2
  vhost sts.test "$(serve enforce mx.sts.test)"
  vhost sts-testing.test "$(serve testing mx.sts-testing.test)"
  vhost sts-none.test "$(serve none mx.sts-none.test)"
  vhost sts-wildcard.test "$(serve enforce '*.wild.sts-wildcard.test')"
  vhost sts-mx-mismatch.test "$(serve enforce mx.elsewhere.test)"
  # a redirect to a valid enforce policy: RFC 8461 section 3.3 forbids following it
  vhost sts-redirect.test "            return 301 https://mta-sts.sts-redirect.test/policy.txt;" mta-sts \
    "        location = /policy.txt {
$(serve enforce mx.sts-redirect.test)
        }"
  vhost sts-ctype.test "            default_type text/html;
            return 200 \"$(policy enforce mx.sts-ctype.test)\";"
  vhost sts-malformed.test "            default_type text/plain;
            return 200 \"version: STSv1\\r\\nmode: enforce\\r\\nmx mx.sts-malformed.test\\r\\nmax_age: 86400\\r\\n\";"
  vhost sts-404.test "            return 404;"
  vhost sts-untrusted.test "$(serve enforce mx.sts-untrusted.test)" mta-sts-untrusted
  vhost sts-badtxt.test "$(serve enforce mx.sts-badtxt.test)"
  vhost sts-selfsigned.test "$(serve enforce mx.sts-selfsigned.test)"
  vhost sts-noname.test "$(serve enforce mx.sts-noname.test)"
  vhost sts-nostarttls.test "$(serve enforce mx.sts-nostarttls.test)"
  vhost insecure-mx-sts.test "$(serve enforce mx.insecure-mx-sts.test)"
  vhost rpt-sts.test "$(serve enforce mx1.rpt-sts.test mx2.rpt-sts.test)"
  echo "}"
} > "$STATE/nginx/nginx.conf"
nginx -t -q -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -e "$STATE/logs/nginx-error.log"
nginx -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -e "$STATE/logs/nginx-error.log"
log "nginx started"

# ---------------------------------------------------------------------------------------------
# 8. Postfix with a private config directory
# ---------------------------------------------------------------------------------------------
PF="$STATE/postfix/etc"
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
$MX_TA_ADDR:smtp inet    n       -       n       -       -       smtpd -o smtpd_tls_cert_file=$PKI/ta-leaf.chain.pem -o smtpd_tls_key_file=$PKI/ta-leaf.key
$MX_SELF_ADDR:smtp inet  n       -       n       -       -       smtpd -o smtpd_tls_cert_file=$PKI/self.chain.pem -o smtpd_tls_key_file=$PKI/self.key
$MX_NONAME_ADDR:smtp inet n      -       n       -       -       smtpd -o smtpd_tls_cert_file=$PKI/noname.chain.pem -o smtpd_tls_key_file=$PKI/noname.key
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
# 9. Hostile SMTP peers: socat runs interop/hostile-smtp.sh once per connection; every line they
#    receive is logged to logs/hostile-<mode>.log
# ---------------------------------------------------------------------------------------------
hostile() { # name address mode
  : > "$STATE/logs/hostile-$3.log"
  socat -T 60 "TCP-LISTEN:25,bind=$2,reuseaddr,fork" \
    "EXEC:$HERE/hostile-smtp.sh $3 $STATE/logs/hostile-$3.log" \
    </dev/null >>"$STATE/logs/socat-$1.log" 2>&1 &
  echo $! > "$STATE/run/hostile-$1.pid"
}
hostile data "$HOSTILE_DATA_ADDR" data250
hostile ehlo "$HOSTILE_EHLO_ADDR" ehlo251
log "hostile peers started"

# ---------------------------------------------------------------------------------------------
# 10. Smoke check
# ---------------------------------------------------------------------------------------------
wait_port() { # addr port
  for _ in $(seq 1 50); do nc -z -w1 "$1" "$2" 2>/dev/null && return 0; sleep 0.1; done
  die "nothing listens on $1:$2"
}
wait_port $NSD_ADDR 53; wait_port $UNBOUND_ADDR 53; wait_port $NGINX_ADDR 443
for a in $MX_TLS_ADDR $MX_PLAIN_ADDR $MX_TA_ADDR $MX_SELF_ADDR $MX_NONAME_ADDR $HOSTILE_DATA_ADDR $HOSTILE_EHLO_ADDR; do
  wait_port "$a" 25
done
"$HERE/smoke.sh"
log "up: all smoke checks passed"
