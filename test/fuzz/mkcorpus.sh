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
cp conf/tenant.conf.example $c/fuzz_config/tenant.conf

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

# fuzz_stateful: sequences of operations (see fuzz_stateful.c); b emits
# bytes given in decimal, body FILE a 2-byte length and the file
d=$c/fuzz_stateful
mkdir -p $d
b() { for x in "$@"; do printf "\\$(printf %03o "$x")"; done; }
body() { n=$(wc -c <"$1"); b $((n >> 8)) $((n & 255)); cat "$1"; }
SUB=0 REFRESH=1 UNSUB=2 ANSWER=3 NOTIFY=4 RAW=5 TIME=6 RESTART=7
# SUB: phone|slot<<2, target, event, cseq, accept|expires<<3
{ b $SUB 0 0 0 1 $((1 | 4 << 3)); b $ANSWER 0
  b $NOTIFY 0; body $f/dialog-parked.xml; b $ANSWER 0
  b $REFRESH $((4 << 3)); b $ANSWER 0
  b $NOTIFY 0; body $f/dialog-idle.xml; b $ANSWER 0
  b $UNSUB 0; b $ANSWER 0; } >$d/park-retrieve
{ b $SUB 4 5 0 1 $((3 | 4 << 3)); b $ANSWER 0
  b $NOTIFY $((3 << 3)); body $f/rlmi-full.multipart; b $ANSWER 0
  b $TIME 8; b $ANSWER 0; b $UNSUB 1; b $ANSWER 0; } >$d/list-rlmi
{ b $SUB 1 1 0 1 $((2 | 4 << 3)); b $ANSWER 0
  b $NOTIFY $((4 << 3 | 0)); body $f/rlmi-pidf.multipart
  b $NOTIFY $((1 << 3)); body $f/pidf-busy.xml
  b $NOTIFY $((2 << 3)); body $f/vendor-3cx.xml
  b $ANSWER 0; b $ANSWER 0; } >$d/pidf-vendor
{ b $SUB 0 0 0 1 $((1 | 4 << 3)); b $ANSWER 0
  b $SUB 8 2 2 1 $((1 | 3 << 3)); b $ANSWER 16
  b $RESTART; b $ANSWER 0
  b $NOTIFY 0; body $f/dialog-parked.xml; b $ANSWER 0; b $ANSWER 0
  b $TIME 240; b $ANSWER 0; } >$d/restart-resume
{ b $SUB 0 0 0 1 $((1 | 1 << 3)); b $ANSWER 0
  b $SUB 2 1 0 1 $((1 | 4 << 3)); b $ANSWER 0
  b $SUB 1 6 1 1 $((4 | 2 << 3)); b $SUB 0 0 3 1 0
  b $SUB 224 0 0 4; b $SUB 224 1 1 0; b $SUB 224 2 3 0
  b $SUB 225 3 5 0; } >$d/fetch-refused-other
{ b $SUB 0 0 0 1 $((1 | 4 << 3)); b $ANSWER 0
  b $NOTIFY 3 0 0; b $TIME 100; b $TIME 100; b $ANSWER 7
  b $NOTIFY 0; body $f/dialog-parked.xml; b $ANSWER 4; b $TIME 40
  b $REFRESH $((64 | 4 << 3)); b $REFRESH $((192 | 4 << 3))
  b $UNSUB 0; } >$d/upstream-terminated
tail -c +2 $s/subscribe >$d/.raw
{ b $RAW 0; body $d/.raw; b $ANSWER 0; } >$d/raw-subscribe
rm -f $d/.raw
