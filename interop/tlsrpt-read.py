#!/usr/bin/env python3
"""Reads a TLS-RPT report mail (RFC 8460 section 5.3) from a file, independently of mailtls.

Parses the message with Python's `email` package, checks its shape (multipart/report with
report-type "tlsrpt", the TLS-Report-Domain and TLS-Report-Submitter headers, the Subject of
section 5.3, one application/tlsrpt+gzip part), gunzips and parses the report with `json`, and,
when --dkim-resolver is given, verifies the DKIM-Signature with dkimpy, fetching the public key
with dig from that resolver. Prints one JSON summary on stdout; exits 1 with the reason on stderr
when the message is not a valid report.

usage: tlsrpt-read.py MESSAGE_FILE [--dkim-resolver ADDRESS]
"""

import email
import email.policy
import gzip
import json
import re
import subprocess
import sys


def fail(reason):
    print("tlsrpt-read: " + reason, file=sys.stderr)
    sys.exit(1)


def dig_txt(resolver):
    def lookup(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode("ascii")
        out = subprocess.run(
            ["dig", "+short", "+time=3", "+tries=1", "@" + resolver, "TXT", name.rstrip(".")],
            capture_output=True, text=True, timeout=timeout + 5, check=False).stdout
        # one record per line, each a sequence of quoted strings: concatenate them
        first = out.strip().splitlines()[0] if out.strip() else ""
        return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', first)).encode("ascii")
    return lookup


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--dkim-resolver"):
        fail("usage: tlsrpt-read.py MESSAGE_FILE [--dkim-resolver ADDRESS]")
    with open(argv[1], "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)

    if msg.get_content_type() != "multipart/report":
        fail("Content-Type is " + msg.get_content_type())
    if msg.get_param("report-type") != "tlsrpt":
        fail("report-type is %r" % msg.get_param("report-type"))
    domain = msg["TLS-Report-Domain"]
    submitter = msg["TLS-Report-Submitter"]
    if not domain or not submitter:
        fail("TLS-Report-Domain or TLS-Report-Submitter missing")

    reports = [p for p in msg.iter_parts() if p.get_content_type() == "application/tlsrpt+gzip"]
    if len(reports) != 1:
        fail("%d application/tlsrpt+gzip parts" % len(reports))
    part = reports[0]
    report = json.loads(gzip.decompress(part.get_payload(decode=True)).decode("utf-8"))

    subject = str(msg["Subject"])
    # RFC 8460 section 5.3: the Report-ID is an RFC 5322 msg-id, "<" id ">"
    report_id = report["report-id"].strip("<>")
    expected = "Report Domain: %s Submitter: %s Report-ID: <%s>" % (domain, submitter, report_id)
    if re.sub(r"\s+", " ", subject).strip() != expected:
        fail("Subject %r, expected %r" % (subject, expected))

    dkim_result = None
    if len(argv) == 4:
        import dkim  # python3-dkim (dkimpy)
        # RFC 8460 mode, strict: the key record must declare the service type tlsrpt (section 3)
        dkim_result = bool(dkim.verify(raw, dnsfunc=dig_txt(argv[3]), tlsrpt="strict"))

    summary = {
        "report-domain": str(domain),
        "submitter": str(submitter),
        "subject": subject,
        "filename": part.get_filename(),
        "dkim-verified": dkim_result,
        "tls-required": msg["TLS-Required"] and str(msg["TLS-Required"]),
        "report": report,
    }
    json.dump(summary, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main(sys.argv)
