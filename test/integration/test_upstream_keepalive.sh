# The OPTIONS keepalive to the PBX is a well-formed request: the fake
# PBX, as strict as Kamailio's parser, drops a request with a header
# that may occur only once twice (such as two Max-Forwards) unanswered.
# Pinged every second, the link stays up and no ping goes unanswered.
. "$(dirname "$0")/lib.sh"

start_fakepbx
write_config "upstream_keepalive 1"
start_parkblf
sleep 5
n=$(grep -c 'OPTIONS: replied 200' "$T/fakepbx.log")
grep 'dropped: duplicate' "$T/fakepbx.log" &&
	fail "the PBX dropped parkblf's requests"
[ "$n" -ge 3 ] || fail "$n OPTIONS pings answered in 5 s, want >= 3"
grep -q 'link up -> down' "$T/parkblf.log" && fail "the link went down"
log "$n keepalive pings in 5 s, each answered; the link stayed up"
