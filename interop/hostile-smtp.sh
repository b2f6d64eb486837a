#!/usr/bin/env bash
# A hostile SMTP peer for the interop suite, one connection on stdin/stdout (socat runs one per
# connection). It speaks just enough SMTP to reach the step where it breaks the protocol:
#   data250   answers DATA with 250 (RFC 5321 section 4.3.2: 354 is the only positive reply to
#             DATA), as if the message had been accepted though no content was sent
#   ehlo251   answers EHLO with 251, a 2xx code that is not 250
# Every line received is appended to the log named by the second argument, so the tests can see
# that no message content ever reached this peer. Each read waits at most 30 seconds.
set -u
mode=$1 log=$2
say() { printf '%s\r\n' "$1"; }
say "220 hostile.interop.test ESMTP"
while IFS= read -r -t 30 line; do
  line=${line%$'\r'}
  printf '%s\n' "$line" >> "$log"
  verb=$(printf '%s' "${line%% *}" | tr '[:lower:]' '[:upper:]')
  case "$verb" in
    EHLO) if [ "$mode" = ehlo251 ]; then say "251 hostile.interop.test"; else say "250 hostile.interop.test"; fi ;;
    HELO) say "250 hostile.interop.test" ;;
    MAIL|RCPT|RSET|NOOP) say "250 2.0.0 ok" ;;
    DATA) if [ "$mode" = data250 ]; then say "250 2.0.0 queued as FAKE"; else say "354 go ahead"; fi ;;
    QUIT) say "221 2.0.0 bye"; exit 0 ;;
    *) say "502 5.5.2 not implemented" ;;
  esac
done
