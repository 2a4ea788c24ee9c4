# parkblf's timers must be the ones libre's main loop runs (issue 12,
# finding 6).  A libre linked with -Bsymbolic-functions (Ubuntu's
# default for packages) binds its own calls to its own timer list: the
# global scope still names parkblf's tmr_*, but re_main never fires a
# parkblf timer (no retransmission, expiry or flush).  Both libres are
# made here from the libre.a of libre-dev, one with the flag, one
# without; parkblf must refuse to start with the first, saying why, and
# start with the second.
. "$(dirname "$0")/lib.sh"

libdir=$(pkg-config --variable=libdir libre)
[ -f "$libdir/libre.a" ] || fail "no $libdir/libre.a (libre-dev)"
# mklibre DIR [LDFLAGS...]: DIR/libre.so.0 from libre.a
mklibre() {
	local dir=$1
	shift
	mkdir -p "$dir"
	${CC:-cc} -shared "$@" -Wl,-soname,libre.so.0 -Wl,--whole-archive \
		"$libdir/libre.a" -Wl,--no-whole-archive \
		$(pkg-config --libs-only-l --static libre | sed 's/-lre//g') \
		-o "$dir/libre.so.0" || fail "cannot link a libre.so from libre.a"
}
mklibre "$T/symbolic" -Wl,-Bsymbolic-functions
mklibre "$T/plain"

start_fakepbx
write_config

LD_LIBRARY_PATH=$T/symbolic ldd "$BUILD/parkblf" |
	grep -q "libre.so.0 => $T/symbolic/" || fail "the copy is not used"
rc=0
LD_LIBRARY_PATH=$T/symbolic timeout 10 "$BUILD/parkblf" \
	-f "$T/parkblf.conf" >"$T/symbolic.log" 2>&1 || rc=$?
[ "$rc" = 124 ] && fail "parkblf ran on a libre that never fires its" \
	"timers: $(tail -n 3 "$T/symbolic.log")"
[ "$rc" = 1 ] || fail "exit $rc: $(cat "$T/symbolic.log")"
grep -q "tmr: libre's main loop does not run this executable's timers" \
	"$T/symbolic.log" || fail "no reason given: $(cat "$T/symbolic.log")"
grep -q "sip: listening" "$T/symbolic.log" && fail "it listened first"
log "-Bsymbolic-functions libre: refused at start, exit 1, reason logged"

LD_LIBRARY_PATH=$T/plain "$BUILD/parkblf" -f "$T/parkblf.conf" \
	>>"$T/parkblf.log" 2>&1 &
PB_PID=$!
DAEMONS+=("$PB_PID:parkblf")
wait_for 10 grep -q "sip: listening on" "$T/parkblf.log" ||
	fail "parkblf did not start on the plain libre"
wait_upstream_up
log "the same libre without the flag: starts, upstream up"
