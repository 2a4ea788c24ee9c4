# parkblf provision VENDOR: for every vendor, one key per orbit with its
# label and NAME@ADDRESS:PORT, well-formed XML where the format is XML,
# labels escaped; an unknown vendor exits 2 with the list; a bad map
# gives FILE:LINE and a non-zero exit; a wildcard sip_listen needs -a.
. "$(dirname "$0")/lib.sh"

ADDR=192.0.2.10:5070
VENDORS="yealink polycom snom grandstream cisco fanvil"
XML_VENDORS="polycom snom grandstream cisco fanvil"

PBX_PORT=5060
write_config "sip_listen $ADDR"
cat >"$T/orbits.conf" <<'EOM'
park-1 *00 retrieve=*10 label="Orbit 0"
park-2 *01 retrieve=*11 label="Front & Back"
park-3 *02 retrieve=*12 label="Say \"hi\" <now>"
park-4 *03
EOM

need_tools xmllint

for v in $VENDORS; do
	out="$T/$v.out"
	"$BUILD/parkblf" provision "$v" -f "$T/parkblf.conf" >"$out" \
		2>"$T/$v.err" || fail "$v: exit $?: $(cat "$T/$v.err")"
	for n in 1 2 3 4; do
		grep -qF "park-$n@$ADDR" "$out" ||
			fail "$v: no park-$n@$ADDR in: $(cat "$out")"
	done
	grep -qF "park-4" "$out" || fail "$v: no label for park-4"
	# in map order
	order=$(grep -oE 'park-[0-9]+@' "$out" | uniq | tr -d '@\n')
	[ "$order" = "park-1park-2park-3park-4" ] ||
		fail "$v: keys not in map order: $order"
	log "$v: 4 keys, park-N@$ADDR"
done

for v in $XML_VENDORS; do
	xmllint --noout "$T/$v.out" 2>"$T/$v.xmllint" ||
		fail "$v: not well-formed: $(cat "$T/$v.xmllint")"
	grep -qF 'Orbit 0' "$T/$v.out" || fail "$v: no label 'Orbit 0'"
	grep -qF 'Front &amp; Back' "$T/$v.out" ||
		fail "$v: & not escaped: $(grep Front "$T/$v.out")"
	grep -qF 'Say &quot;hi&quot; &lt;now&gt;' "$T/$v.out" ||
		fail "$v: quote/< not escaped: $(grep hi "$T/$v.out")"
done
log "XML vendors: well-formed, labels escaped"

# Yealink's .cfg has no escapes: the label is the rest of the line
grep -qxF 'linekey.2.label = Orbit 0' "$T/yealink.out" ||
	fail "yealink: label line: $(grep label "$T/yealink.out")"
grep -qxF 'linekey.4.label = Say "hi" <now>' "$T/yealink.out" ||
	fail "yealink: raw label: $(grep label "$T/yealink.out")"
grep -qxF 'linekey.2.pickup_value = *10' "$T/yealink.out" ||
	fail "yealink: no pickup_value"
head -n 1 "$T/yealink.out" | grep -qx '#!version:1.0.0.1' ||
	fail "yealink: first line is not the version header"
log "yealink: raw labels, retrieve as pickup_value"

# the retrieve code where the vendor has a field for it
grep -qF 'ext=*10@$PROXY' "$T/cisco.out" || fail "cisco: no ext=*10"
grep -qF '<Value>park-1@2/ba*10</Value>' "$T/fanvil.out" ||
	fail "fanvil: no value with *10"
log "retrieve codes: yealink, cisco, fanvil"

# the labels read back through libxml2 are the originals
label=$(xmllint --xpath 'string(//fkey[2]/@label)' "$T/snom.out")
[ "$label" = "Front & Back" ] || fail "snom: label read back '$label'"
label=$(xmllint --xpath 'string(//fkey[3]/@label)' "$T/snom.out")
[ "$label" = 'Say "hi" <now>' ] || fail "snom: label read back '$label'"
log "labels survive a round trip through an XML parser"

# -a and -k
"$BUILD/parkblf" provision snom -f "$T/parkblf.conf" -a "[2001:db8::5]:5080" \
	-k 5 >"$T/a.out" || fail "-a IPv6 refused"
grep -qF 'idx="4" context="active" label="Orbit 0"' "$T/a.out" ||
	fail "-k 5: $(grep fkey "$T/a.out")"
grep -qF 'park-1@[2001:db8::5]:5080' "$T/a.out" || fail "-a IPv6 not used"
log "-a [v6]:port and -k FIRST"

# unknown vendor: exit 2, the list of vendors
"$BUILD/parkblf" provision nokia -f "$T/parkblf.conf" >"$T/u.out" 2>&1
rc=$?
[ "$rc" = 2 ] || fail "unknown vendor: exit $rc"
for v in $VENDORS; do
	grep -q "$v" "$T/u.out" || fail "unknown vendor: $v not listed"
done
log "unknown vendor: exit 2 with the list"

# a wildcard sip_listen needs -a
write_config "sip_listen 0.0.0.0:5060"
printf 'park-1 *00 retrieve=*10 label="Orbit 0"\n' >"$T/orbits.conf"
"$BUILD/parkblf" provision yealink -f "$T/parkblf.conf" >"$T/w.out" 2>&1
rc=$?
[ "$rc" != 0 ] || fail "wildcard sip_listen accepted without -a"
grep -q -- "-a ADDRESS" "$T/w.out" || fail "no hint for -a: $(cat "$T/w.out")"
"$BUILD/parkblf" provision yealink -f "$T/parkblf.conf" -a 198.51.100.7 \
	>"$T/w.out" || fail "-a without port refused"
grep -qF 'park-1@198.51.100.7:5060' "$T/w.out" ||
	fail "-a without port: $(grep value "$T/w.out")"
log "wildcard sip_listen: asks for -a; -a ADDRESS takes sip_listen's port"

# a bad map: FILE:LINE and non-zero
printf 'park-1 *00\npark-2\n' >"$T/orbits.conf"
if "$BUILD/parkblf" provision cisco -f "$T/parkblf.conf" -a 192.0.2.1 \
	>"$T/b.out" 2>&1; then
	fail "bad map accepted"
fi
grep -q "^$T/orbits.conf:2: orbit 'park-2' has no DN" "$T/b.out" ||
	fail "no FILE:LINE: $(cat "$T/b.out")"
log "bad map: FILE:LINE, non-zero exit"

# 201 orbits: no key beyond the family's biggest model (before, they ran
# on to linekey.202), a warning that says how many got none; -n sets the
# model's last key; Yealink's expansion modules (-x) take the rest
write_config "sip_listen $ADDR"
write_numbered_map 201
# prov VENDOR ARGS...: output in $T/p.out, stderr in $T/p.err
prov() {
	local v=$1
	shift
	"$BUILD/parkblf" provision "$v" -f "$T/parkblf.conf" "$@" \
		>"$T/p.out" 2>"$T/p.err" || fail "$v $*: exit $?"
}
# highest PATTERN: the largest number captured by the sed expression
highest() { sed -n "$1" "$T/p.out" | sort -n | tail -n 1; }
for spec in 'yealink:s/^linekey\.\([0-9]*\)\.type.*/\1/p:29' \
	'polycom:s/.*resourceList\.\([0-9]*\)\.address.*/\1/p:50' \
	'snom:s/.*fkey idx="\([0-9]*\)".*/\1/p:47' \
	'grandstream:s/.*pks\.mpk\.\([0-9]*\)\.keyMode.*/\1/p:48' \
	'cisco:s/.*<Extended_Function_\([0-9]*\)_>.*/\1/p:16' \
	'fanvil:s/.*<ID>Fkey\([0-9]*\)<.*/\1/p:60'; do
	v=${spec%%:*}
	re=${spec#*:}
	re=${re%:*}
	prov "$v"
	top=$(highest "$re")
	[ "$top" = "${spec##*:}" ] ||
		fail "$v: last key $top, not ${spec##*:}"
	grep -q "warning: [0-9]* of 201 orbits got no key: $v keys" \
		"$T/p.err" || fail "$v: no warning: $(cat "$T/p.err")"
	log "$v: 201 orbits stop at key ${spec##*:}, with a warning"
done
prov cisco -n 6
[ "$(highest 's/.*<Extended_Function_\([0-9]*\)_>.*/\1/p')" = 6 ] ||
	fail "cisco -n 6: keys beyond 6"
grep -q "196 of 201 orbits got no key: cisco keys 2..6" "$T/p.err" ||
	fail "cisco -n 6: $(cat "$T/p.err")"
prov yealink -x 2
grep -q '^expansion_module\.2\.key\.60\.value = park-148@' "$T/p.out" ||
	fail "yealink -x 2: module 2 key 60 is not park-148"
grep -q '^expansion_module\.1\.key\.1\.value = park-29@' "$T/p.out" ||
	fail "yealink -x 2: module 1 key 1 is not park-29"
grep -q "120 of 201 orbits are on expansion modules" "$T/p.err" &&
	grep -q "53 of 201 orbits got no key" "$T/p.err" ||
	fail "yealink -x 2: $(cat "$T/p.err")"
log "-n LAST caps the keys; yealink -x 2 puts 120 on two modules"
chmod 600 "$T/parkblf.conf"
prov yealink -n 202
[ -s "$T/p.err" ] && fail "yealink -n 202 warns: $(cat "$T/p.err")"
log "no warning when every orbit has a key"
