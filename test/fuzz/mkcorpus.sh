#!/bin/sh
# Regenerates the seed corpora of the fuzz targets from test/fixtures/
# and conf/ (one selector byte, then the data: see each target's
# banner).  Crash regression seeds (crash-*) are kept.
#
# Usage: sh test/fuzz/mkcorpus.sh
set -e
cd "$(dirname "$0")/../.."
c=test/fuzz/corpus
f=test/fixtures
mkdir -p $c/fuzz_decoders $c/fuzz_config $c/fuzz_sip

# seed FILE SELECTOR [PREFIX] < BODY
seed() {
	{ printf "\\$(printf %03o "$2")"; printf '%s' "${3:-}"; cat; } >"$1"
}

d=$c/fuzz_decoders
seed $d/dialog-parked 0 <$f/dialog-parked.xml
seed $d/dialog-partial 0 <$f/dialog-partial.xml
seed $d/dialog-xxe 0 <$f/dialog-xxe.xml
seed $d/rlmi-full 1 <$f/rlmi-full.multipart
seed $d/pidf-busy 2 <$f/pidf-busy.xml
seed $d/vendor-3cx 3 <$f/vendor-3cx.xml
seed $d/ctype-rlmi-pidf 4 'multipart/related;type="application/rlmi+xml";boundary="pidf-b"
' <$f/rlmi-pidf.multipart
seed $d/ctype-dialog 4 'application/dialog-info+xml;charset=UTF-8
' <$f/dialog-idle.xml

cp conf/parkblf.conf $c/fuzz_config/parkblf.conf
cp conf/orbits.conf $c/fuzz_config/orbits.conf
cp $f/vendor-3cx.conf $c/fuzz_config/vendor-3cx.conf

s=$c/fuzz_sip
printf '127.0.0.0/8,::1,10.0.0.0/8,fc00::/7,fe80::/10' |
	seed $s/acl 0
printf '<sip:*00@pbx.example.com;transport=tcp>' | seed $s/uri-sip 1
printf 'tel:+4930123;phone-context=x' | seed $s/uri-tel 1
crlf() { sed 's/$/\r/'; }
crlf <<'MSG' | seed $s/subscribe 2
SUBSCRIBE sip:park-1@192.0.2.10 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK-1
From: <sip:201@192.0.2.10>;tag=a1
To: <sip:park-1@192.0.2.10>
Call-ID: c1@192.0.2.20
CSeq: 1 SUBSCRIBE
Contact: <sip:201@192.0.2.20:5060>
Event: dialog;id=7
Accept: application/dialog-info+xml, */*
Expires: 3600
Content-Length: 0

MSG
crlf <<'MSG' | seed $s/subscribe-list 2
SUBSCRIBE sip:all-parks@192.0.2.10 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK-5
From: <sip:201@192.0.2.10>;tag=a5
To: <sip:all-parks@192.0.2.10>
Call-ID: c5@192.0.2.20
CSeq: 1 SUBSCRIBE
Contact: <sip:201@192.0.2.20:5060>
Event: dialog
Supported: eventlist
Accept: application/dialog-info+xml, multipart/related, application/rlmi+xml
Content-Length: 0

MSG
crlf <<'MSG' | seed $s/register 2
REGISTER sip:192.0.2.10 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK-2
From: <sip:201@192.0.2.10>;tag=a2
To: <sip:201@192.0.2.10>
Call-ID: c2@192.0.2.20
CSeq: 1 REGISTER
Contact: <sip:201@192.0.2.20:5060>;expires=120
Content-Length: 0

MSG
crlf <<'MSG' | seed $s/invite 2
INVITE sip:park-2@192.0.2.10 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK-3
From: <sip:201@192.0.2.10>;tag=a3
To: <sip:park-2@192.0.2.10>
Call-ID: c3@192.0.2.20
CSeq: 1 INVITE
Referred-By: <sip:202@192.0.2.10>
Contact: <sip:201@192.0.2.20:5060>
Content-Length: 0

MSG
{ crlf <<'MSG'
NOTIFY sip:9999@192.0.2.10 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-4
From: <sip:any-dn@192.0.2.1>;tag=p1
To: <sip:9999@192.0.2.10>;tag=b1
Call-ID: c4@192.0.2.10
CSeq: 2 NOTIFY
Event: dialog
Subscription-State: active;expires=600
Content-Type: application/dialog-info+xml
MSG
printf 'Content-Length: %d\r\n\r\n' "$(wc -c <$f/dialog-parked.xml)"
cat $f/dialog-parked.xml; } | seed $s/notify 2
