# What each vendor's firmware sends when a park key is pressed, in each
# lamp state, as its admin guide describes it (README, "What a key press
# sends"; no real phone was at hand), emulated with sipp: parkblf
# answers every one 302 with the orbit's retrieve code at the PBX (or
# its park code, for a transfer to the key), and 404 for what names no
# orbit.  Before this, only an INVITE to the key's exact name was
# understood: a Fanvil key's pickup code (*10) or a Grandstream
# call-pickup prefix (**park-1) got 404.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config
start_parkblf

PBX="127.0.0.1:$PBX_PORT"
retrieve="<sip:\*10@$PBX>"
park="<sip:\*00@$PBX>"
xfer="Referred-By: <sip:100@127.0.0.1>"

press "any vendor, dark or solid lamp (the key's value)" park-1 "$retrieve"
press "Yealink flashing, pickup_value *10 before the value" \
	'*10park-1' "$retrieve"
press "Yealink/Poly flashing, direct pickup code *97 (default)" \
	'*97park-1' "$retrieve"
press "Grandstream flashing, BLF call-pickup prefix ** (default)" \
	'**park-1' "$retrieve"
press "Snom flashing, pickup prefix *8 (blf URI|*8)" '*8park-1' "$retrieve"
press "Fanvil lit, the key's pickup number alone" '*10' "$retrieve"
press "the dialog's target dialled at parkblf (sip:*11@...)" '*11' \
	"<sip:\*11@$PBX>"
press "any vendor, transfer to the key" park-1 "$park" "$xfer"
press "transfer to the key with a pickup prefix" '**park-1' "$park" "$xfer"
press "transfer to the park code dialled at parkblf" '*00' "$park"

for user in park-9 '**park-9' '*99' 'park-1x'; do
	expect_response INVITE "$user" 404 "Via:" "SIP" "" "$ACK_AFTER"
done
log "no orbit (park-9, **park-9, *99, park-1x): 404"

grep -q 'redirect: \*\*park-1 (park-1) from .*: retrieve -> sip:\*10@' \
	"$T/parkblf.log" || fail "the dialled user and orbit are not logged"
