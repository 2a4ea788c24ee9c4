# parkblf redefines nothing of libre's (issue 13): its timers live in a
# heap of its own, driven by one libre timer (src/ptmr.c), and its
# random numbers come from a buffer of its own (src/randbuf.c), under
# its own names.  Before, the executable defined libre's tmr_* and
# rand_*, which libre.so called through its PLT: a libre linked with
# -Bsymbolic-functions (Ubuntu's default for packages) binds its own
# calls to itself, and every parkblf timer then sat in a heap nobody
# polled (issue 12, finding 6).
#
# 1. No name that libre.so defines is defined in build/parkblf (nm).
# 2. On a libre made with -Bsymbolic-functions from the libre.a of
#    libre-dev, parkblf starts and its timers run: a phone's NOTIFY
#    after a park (the notifier's flush), the subscription's expiry
#    and its final NOTIFY (libre's transaction).
. "$(dirname "$0")/lib.sh"

need_tools nm
libre_so=$(ldd "$BUILD/parkblf" | awk '/libre\.so/ { print $3 }')
[ -f "$libre_so" ] || fail "parkblf is not linked with a libre.so"
nm -D --defined-only "$libre_so" | awk '{ print $NF }' | sort -u \
	>"$T/libre.syms"
{ nm --defined-only "$BUILD/parkblf"; nm -D --defined-only "$BUILD/parkblf"
} 2>/dev/null | awk '{ print $NF }' | sort -u >"$T/parkblf.syms"
grep -qx tmr_start "$T/libre.syms" || fail "nm shows no tmr_start in libre"
grep -qx main "$T/parkblf.syms" ||
	fail "nm shows no main in parkblf (stripped?)"
both=$(comm -12 "$T/libre.syms" "$T/parkblf.syms" |
	grep -Evx '_init|_fini|_edata|_end|__bss_start' | paste -sd ' ')
[ -z "$both" ] || fail "parkblf defines libre's: $both"
log "nm: parkblf defines none of the $(wc -l <"$T/libre.syms") names" \
	"of $libre_so"

libdir=$(pkg-config --variable=libdir libre)
[ -f "$libdir/libre.a" ] || fail "no $libdir/libre.a (libre-dev)"
mkdir -p "$T/symbolic"
${CC:-cc} -shared -Wl,-Bsymbolic-functions -Wl,-soname,libre.so.0 \
	-Wl,--whole-archive "$libdir/libre.a" -Wl,--no-whole-archive \
	$(pkg-config --libs-only-l --static libre | sed 's/-lre//g') \
	-o "$T/symbolic/libre.so.0" || fail "cannot link a libre.so from libre.a"
LD_LIBRARY_PATH=$T/symbolic ldd "$BUILD/parkblf" |
	grep -q "libre.so.0 => $T/symbolic/" || fail "the copy is not used"

start_fakepbx
write_config "subscribe_min_expires 2"
PARKBLF_WRAP="env LD_LIBRARY_PATH=$T/symbolic" start_parkblf
log "-Bsymbolic-functions libre: parkblf started, upstream up"

start_phone ph park-1 EXPIRES=3 QUIET_MS=30000
expect_last ph '<state>terminated</state>'
pbx park '*00' call-1 4930111 'Alice Smith' >/dev/null
expect_last ph '<state>confirmed</state>'
log "a park reaches the phone"

wait_for 10 grep -q '^Subscription-State: terminated' "$T/ph.msg" ||
	fail "the subscription did not expire: $(tail -n 5 "$T/parkblf.log")"
log "the subscription expired after 3 s: final NOTIFY sent"
