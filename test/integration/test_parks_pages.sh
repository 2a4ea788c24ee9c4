# /parks.xml with 201 orbits: the menus come in pages a phone's XML
# browser can show (at most 30 entries, Yealink's cap; Cisco's is 100),
# linked by "Previous page" / "Next page" entries whose absolute URLs
# name the host the phone asked; following them from page 1 shows every
# orbit exactly once, in map order.  A page past the end shows the last
# one; a page that is not a number is 400.  The phone book formats
# (Grandstream, Fanvil) come whole.  Every vendor name `parkblf
# provision` takes is taken here too (and the other way round).
. "$(dirname "$0")/lib.sh"

need_tools curl xmllint

N=201
start_fakepbx
write_config "http_listen 127.0.0.1:0"
write_numbered_map $N
start_parkblf
HTTP_PORT=$(sed -n 's/.*http: listening on 127.0.0.1:\([0-9]*\).*/\1/p' \
	"$T/parkblf.log")
[ -n "$HTTP_PORT" ] || fail "no http port"
URL="http://127.0.0.1:$HTTP_PORT"
LONG="Alice Rosalind Wilhelmina Montgomery-Featherstonehaugh of Accounts Payable"
pbx park '*1007' call-1 100 "$LONG" >/dev/null
wait_for 5 grep -Eq '\*1007( changed|\): 1 call)' "$T/parkblf.log" ||
	fail "the park in *1007 did not arrive"

# get URL: the body in $T/body, the status code printed
get() {
	curl -sS --max-time 5 -o "$T/body" -w '%{http_code}' "$1" ||
		fail "curl $1 failed"
}
xp() { xmllint --xpath "$1" "$T/body" 2>/dev/null; }

# valid VENDOR: the last body is well-formed and valid against the
# element structure of the vendor's guide (test/fixtures/phonexml)
valid() {
	xmllint --noout --dtdvalid "$SRC/test/fixtures/phonexml/$1.dtd" \
		"$T/body" 2>"$T/xmllint.err"
}

# walk VENDOR ENTRY DIALPATH NEXTPATH: follows the next links from page
# 1; checks each page; prints the dial strings of all pages in order
walk() {
	local vendor=$1 entry=$2 dial=$3 next=$4 url page=0 pages items
	url="$URL/parks.xml?vendor=$vendor"
	: >"$T/dials"
	while [ -n "$url" ]; do
		page=$((page + 1))
		[ $page -le 20 ] || fail "$vendor: more than 20 pages"
		[ "$(get "$url")" = 200 ] || fail "$vendor: $url: not 200"
		valid "$vendor" || fail "$vendor page $page: not valid:" \
			"$(cat "$T/xmllint.err")"
		items=$(xp "count($entry)")
		[ "$items" -le 30 ] ||
			fail "$vendor page $page: $items entries (cap 30)"
		xp "$dial" | tr ' ' '\n' | grep . >>"$T/dials"
		if [ $page -gt 1 ]; then
			grep -q 'Previous page' "$T/body" ||
				fail "$vendor page $page: no Previous entry"
		else
			grep -q 'Previous page' "$T/body" &&
				fail "$vendor page 1 has a Previous entry"
		fi
		url=$(xp "string($next)")
		case "$url" in
		"") ;;
		"http://127.0.0.1:$HTTP_PORT/parks.xml?vendor=$vendor&page=$((page + 1))") ;;
		*) fail "$vendor page $page: next URL '$url'" ;;
		esac
	done
	pages=$page
	grep -q 'Next page' "$T/body" && fail "$vendor: last page has Next"
	grep -q "($pages/$pages)" "$T/body" ||
		fail "$vendor: the last page's title does not say $pages/$pages"
	# every orbit once, in map order
	seq $((5000 + 1)) $((5000 + N)) | sed 's/^/*/' >"$T/want"
	sed 's/^href="//; s/"$//; s/^Dial://; s/^tel:\/\///
		s/^snom:\/\/mb_nop#numberdial=//' \
		"$T/dials" | diff -q - "$T/want" >/dev/null ||
		fail "$vendor: pages do not list *5001..*5$N once in order:" \
			"$(diff "$T/want" "$T/dials" | head -5)"
	log "$vendor: $N orbits on $pages pages of at most 30 entries"
}

# the dial strings: the entries' dial elements, joined by spaces
walk yealink '//MenuItem' \
	'//MenuItem/Dial/text()' \
	'//MenuItem[contains(Prompt,"Next page")]/URI'
walk cisco '//MenuItem' \
	'//MenuItem/URL[starts-with(.,"Dial:")]/text()' \
	'//MenuItem[contains(Name,"Next page")]/URL'
walk snom '//MenuItem' \
	'//MenuItem/URL[starts-with(.,"snom:")]/text()' \
	'//MenuItem[contains(Name,"Next page")]/URL'
walk polycom '//*[local-name()="p"]' \
	'//*[local-name()="a"]/@href[starts-with(.,"tel:")]' \
	'//*[local-name()="a"][contains(.,"Next page")]/@href'

# a middle page: 28 orbits and both links
[ "$(get "$URL/parks.xml?vendor=polycom&page=2")" = 200 ] || fail polycom
[ "$(grep -c 'href="tel://' "$T/body")" = 28 ] ||
	fail "polycom page 2: not 28 orbits"

# the caller on park-7 shows on page 1
[ "$(get "$URL/parks.xml?vendor=yealink")" = 200 ] || fail "page 1"
xp 'string(//MenuItem[7]/Prompt)' | grep -q '100 Alice' ||
	fail "park-7's caller not on page 1: $(xp 'string(//MenuItem[7])')"

# Cisco's MenuItem Name holds 64 characters: the long caller is cut
[ "$(get "$URL/parks.xml?vendor=cisco")" = 200 ] || fail "cisco page 1"
name=$(xp 'string(//MenuItem[7]/Name)')
[ "$name" = "$(printf 'park-7: 100 %s' "$LONG" | cut -c1-64)" ] ||
	fail "cisco: park-7's name is not cut at 64 characters: '$name'"
for n in $(xp '//MenuItem/Name' | sed 's/<[^>]*>/\n/g' |
	awk 'length > 0 { print length }'); do
	[ "$n" -le 64 ] || fail "cisco: a Name of $n characters"
done
xp 'string(//MenuItem[7]/Prompt)' >/dev/null
[ "$(get "$URL/parks.xml?vendor=yealink")" = 200 ] || fail "yealink"
xp 'string(//MenuItem[7]/Prompt)' | grep -qF "$LONG" ||
	fail "yealink: the long caller is cut"
log "cisco: names cut at 64 characters; yealink shows the whole caller"

# a page past the end is the last page; bad page numbers are 400
[ "$(get "$URL/parks.xml?vendor=cisco&page=99")" = 200 ] || fail "page 99"
grep -q '(8/8)' "$T/body" || fail "page 99 is not the last page (8/8)"
for bad in 0 abc -1 1x ''; do
	[ "$(get "$URL/parks.xml?vendor=cisco&page=$bad")" = 400 ] ||
		fail "page=$bad is not 400"
done
grep -q 'page' "$T/body" || fail "400 without a message"
log "a page past the end is the last; a bad page number is 400"

# phone books come whole
[ "$(get "$URL/parks.xml?vendor=grandstream")" = 200 ] || fail gs
valid grandstream || fail "grandstream: $(cat "$T/xmllint.err")"
[ "$(xp 'count(//Contact)')" = $N ] || fail "grandstream: not $N contacts"
[ "$(get "$URL/parks.xml?vendor=fanvil")" = 200 ] || fail fanvil
valid fanvil || fail "fanvil: $(cat "$T/xmllint.err")"
[ "$(xp 'count(//DirectoryEntry)')" = $N ] ||
	fail "fanvil: not $N entries"
log "grandstream and fanvil: one phone book of $N"

# a Host header with something odd is not echoed into the URLs
code=$(curl -sS --max-time 5 -o "$T/body" -w '%{http_code}' \
	-H 'Host: evil"><x' "$URL/parks.xml?vendor=cisco")
[ "$code" = 200 ] || fail "odd Host: $code"
valid cisco || fail "odd Host: $(cat "$T/xmllint.err")"
xp 'string(//MenuItem[contains(Name,"Next")]/URL)' |
	grep -q "^http://127.0.0.1:$HTTP_PORT/" ||
	fail "odd Host: next URL $(xp 'string(//MenuItem[last()]/URL)')"
log "an odd Host header falls back to the local address"

# one list of vendor names: provision takes what /parks.xml takes
for v in yealink polycom poly snom grandstream cisco cisco-mpp fanvil \
	YeaLink; do
	[ "$(get "$URL/parks.xml?vendor=$v")" = 200 ] ||
		fail "/parks.xml refuses vendor $v"
	"$BUILD/parkblf" provision "$v" -f "$T/parkblf.conf" -a 192.0.2.1 \
		>/dev/null 2>"$T/prov.err" ||
		fail "provision refuses vendor $v: $(cat "$T/prov.err")"
done
[ "$(get "$URL/parks.xml?vendor=nokia")" = 400 ] || fail "nokia not 400"
grep -q 'fanvil' "$T/body" || fail "the 400 does not list fanvil"
"$BUILD/parkblf" provision nokia -f "$T/parkblf.conf" 2>"$T/prov.err" &&
	fail "provision takes nokia"
grep -q 'fanvil' "$T/prov.err" || fail "provision's list lacks fanvil"
log "one list of vendor names for provision and /parks.xml"
