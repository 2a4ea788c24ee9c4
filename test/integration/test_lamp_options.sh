# The lamp choices an admin makes in the config: privacy (global and per
# orbit), a flashing lamp, coalescing per subscription (latest state
# wins), and the NOTIFY rate cap per phone address.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "privacy yes" "dialog_lamp early" "notify_min_interval 1000" \
	"notify_phone_rate 2"
cat >"$T/orbits.conf" <<EOM
park-1 *00 label="Orbit 0"
park-2 *01 privacy=no
park-3 *02
park-4 *03
park-5 *04
park-6 *05
EOM
start_parkblf

for i in 1 2 3 4 5 6; do
	start_phone p$i park-$i QUIET_MS=15000
done
for i in 1 2 3 4 5 6; do
	expect_last p$i '<state>terminated</state>'
done

# 1. privacy, per orbit, and the flashing lamp
pbx park '*00' call-1 100 Alice >/dev/null
pbx park '*01' call-2 200 Bob >/dev/null
expect_last p1 '<state>early</state>'
expect_last p2 '<state>early</state>'
last_matches p1 'Alice|sip:100@' && fail "privacy: caller shown on park-1"
last_matches p1 '<remote> *<target uri="sip:\*10@' ||
	fail "park-1 lost its retrieve target: $(last_notify p1)"
[ "$(last_callers p2)" = "200 Bob" ] ||
	fail "privacy=no on park-2: '$(last_callers p2)'"
log "privacy hides the caller; privacy=no shows it; lamp early"

# 2. coalescing: four changes within the interval, then the latest state
sleep 1.2
n=$(notify_count p3)
pbx park '*02' c3 300 C >/dev/null
pbx retrieve '*02' >/dev/null
pbx park '*02' c4 301 D >/dev/null
pbx retrieve '*02' >/dev/null
sleep 2.5
m=$(notify_count p3)
[ $((m - n)) -le 2 ] || fail "coalescing: $((m - n)) NOTIFYs for 4 changes"
last_matches p3 '<state>terminated</state>' ||
	fail "stale state after coalescing: $(last_notify p3)"
log "4 changes in 1 s: $((m - n)) NOTIFYs, the last one idle"

# 3. pacing: 2 NOTIFYs per second for one phone address (all phones
# here are 127.0.0.1); four orbits change at once
sleep 1.2
for dn in '*02' '*03' '*04' '*05'; do
	pbx park "$dn" "x$dn" 400 E >/dev/null
done
for i in 3 4 5 6; do
	expect_last p$i '<state>early</state>'
done
first=9e9 last=0
for i in 3 4 5 6; do
	t=$(last_notify_time p$i)
	first=$(echo "$t $first" | awk '{print ($1 < $2) ? $1 : $2}')
	last=$(echo "$t $last" | awk '{print ($1 > $2) ? $1 : $2}')
done
spread=$(echo "$first $last" | awk '{printf "%.2f", $2 - $1}')
echo "$spread" | awk '{exit !($1 >= 0.9)}' ||
	fail "pacing: 4 NOTIFYs to one address within $spread s"
log "4 NOTIFYs to one phone address spread over $spread s (2/s)"

for i in 1 2 3 4 5 6; do
	eval "kill -TERM \$PHONE_p$i"
done
