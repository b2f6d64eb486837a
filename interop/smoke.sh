#!/usr/bin/env bash
# Smoke check of a running interop environment (run by up.sh; can be run alone as root).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${INTEROP_STATE:-$HERE/state}"
UNBOUND=127.0.0.54
fail() { echo "SMOKE FAIL: $*" >&2; exit 1; }

# 1. DNSSEC: signed zone validates (ad), unsigned zone does not
out=$(dig @$UNBOUND +dnssec +tries=1 +time=3 MX dane-ee.test)
echo "$out" | grep -E '^;; flags:|IN[[:space:]]+MX' | sed 's/^/  /'
echo "$out" | grep -qE '^;; flags:[^;]* ad[ ;]' || fail "no ad flag for dane-ee.test MX"
echo "$out" | grep -q 'status: NOERROR' || fail "dane-ee.test MX not NOERROR"
out=$(dig @$UNBOUND +dnssec +tries=1 +time=3 MX unsigned.test)
echo "$out" | grep -E '^;; flags:|IN[[:space:]]+MX' | sed 's/^/  /'
echo "$out" | grep -q 'status: NOERROR' || fail "unsigned.test MX not NOERROR"
echo "$out" | grep -qE '^;; flags:[^;]* ad[ ;]' && fail "ad flag set for unsigned.test"
echo "ok: dig ad for dane-ee.test, no ad for unsigned.test"

# 1b. the dead MX of failover.test must refuse connections, not accept or hang
out=$(timeout 3 bash -c 'exec 3<>/dev/tcp/127.0.0.69/25' 2>&1) && fail "something listens on 127.0.0.69:25 (the dead MX)"
echo "$out" | grep -q 'Connection refused' || fail "127.0.0.69:25 does not refuse at once: ${out:-timeout}"
echo "ok: 127.0.0.69:25 refuses connections (failover.test's dead MX)"

# 2. MTA-STS policy over HTTPS with the private CA (curl --resolve: no DNS involved)
pol=$(curl -sS --max-time 5 --cacert "$STATE/pki/ca.crt" --resolve mta-sts.sts.test:443:127.0.0.55 \
      https://mta-sts.sts.test/.well-known/mta-sts.txt)
echo "$pol" | grep -q '^mode: enforce' || fail "MTA-STS policy not served: $pol"
echo "ok: MTA-STS policy served for sts.test"

# 3. posttls-finger (Postfix's own DANE verdict) in a private mount namespace whose
#    resolv.conf names the local Unbound
finger() { # args...
  unshare -m bash -c 'mount --bind "$0/resolv.conf" /etc/resolv.conf && exec posttls-finger "$@"' "$STATE" "$@"
}
export MAIL_CONFIG="$STATE/postfix/etc"
out=$(finger -c -l dane -t 5 -T 10 dane-ee.test 2>&1 || true)
echo "$out" | sed 's/^/  /'
echo "$out" | grep -q 'Verified TLS connection established' || fail "posttls-finger -l dane dane-ee.test not Verified"
echo "ok: posttls-finger -l dane dane-ee.test: Verified"

# 4. A plain SMTP transaction to 127.0.0.60 (bash /dev/tcp) lands in the maildir
rcpt="smoke@dane-ee.test"; id="smoke-$(date +%s%N)"
exec 3<>/dev/tcp/127.0.0.60/25
reply() { # expected code
  local line
  while IFS= read -r -t 10 line <&3; do
    line=${line%$'\r'}
    [[ $line =~ ^[0-9]{3}- ]] && continue
    [[ $line == "$1"* ]] || fail "SMTP: expected $1, got: $line"
    return 0
  done
  fail "SMTP: no reply (expected $1)"
}
say() { printf '%s\r\n' "$1" >&3; }
reply 220; say "EHLO smoke.interop.test"; reply 250
say "MAIL FROM:<smoke@interop.test>"; reply 250
say "RCPT TO:<$rcpt>"; reply 250
say "DATA"; reply 354
say "From: <smoke@interop.test>"; say "To: <$rcpt>"; say "Subject: $id"; say ""; say "smoke body"; say "."; reply 250
say "QUIT"; reply 221
exec 3>&-
md="$STATE/maildirs/dane-ee.test/new"
for _ in $(seq 1 50); do grep -qs "Subject: $id" "$md"/* && break; sleep 0.1; done
grep -qs "Subject: $id" "$md"/* || fail "message $id not in $md"
echo "ok: SMTP to 127.0.0.60 delivered into $md ($(grep -ls "Subject: $id" "$md"/* | head -1))"

# 5. swaks over STARTTLS (Perl's Net::SSLeay, not OpenSSL's s_client nor Java) into the maildir
id="swaks-$(date +%s%N)"
swaks --server 127.0.0.60 --port 25 --tls --tls-protocol tlsv1_2,tlsv1_3 \
  --helo smoke.interop.test --from smoke@interop.test --to swaks@dane-ee.test \
  --header "Subject: $id" --body "swaks smoke" --timeout 10 >/dev/null 2>&1 || fail "swaks delivery over STARTTLS failed"
for _ in $(seq 1 50); do grep -qs "Subject: $id" "$md"/* && break; sleep 0.1; done
f=$(grep -ls "Subject: $id" "$md"/* | head -1)
[ -n "$f" ] || fail "swaks message $id not in $md"
grep -q 'with ESMTPS' "$f" || fail "swaks message $id not received with ESMTPS"
echo "ok: swaks STARTTLS delivery received with ESMTPS ($f)"
