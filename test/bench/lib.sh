# Helpers of the benchmark scripts (sourced by bench.sh, compare.sh,
# tenants.sh and stop.sh).

# params SCALE: the scale's "PHONES KEYS ORBITS"
#   1k   100 x 10 over 10 orbits,   100 watchers per orbit
#   10k  1000 x 10 over 10 orbits,  1000 watchers per orbit
#   50k  5000 x 10 over 50 orbits,  1000 watchers per orbit
params() {
	case $1 in
	1k) echo "100 10 10" ;;
	10k) echo "1000 10 10" ;;
	50k) echo "5000 10 50" ;;
	*) echo "bench: unknown scale $1" >&2; exit 1 ;;
	esac
}

# bench_setup NAME: check that BUILD has parkblf, fakepbx and loadgen;
# PIN_PB and PIN_LG put parkblf on CPU 0 and the fake PBX and the load
# generator on CPU 1 (where there are two); as many sockets as allowed
# (the 50k scale needs 5000)
bench_setup() {
	local b
	for b in parkblf fakepbx loadgen; do
		[ -x "$BUILD/$b" ] ||
			{ echo "$1: $BUILD/$b missing" >&2; exit 1; }
	done
	PIN_PB=() PIN_LG=()
	if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
		PIN_PB=(taskset -c 0)
		PIN_LG=(taskset -c 1)
	fi
	ulimit -n "$(ulimit -Hn)" 2>/dev/null
}

# start_pbx NAME DIR ORBITS [LABELS]: DIR/orbits.conf of ORBITS orbits
# (park-N on DN 7000N, retrieve 8000N; with LABELS, label="Bench N")
# and a fake PBX with those DNs (run_pbx)
start_pbx() {
	local d=$2 i dns=
	for ((i = 1; i <= $3; i++)); do
		echo "park-$i $((70000 + i)) retrieve=$((80000 + i))" \
			${4:+"label=\"Bench $i\""}
		dns+="${dns:+,}$((70000 + i))"
	done >"$d/orbits.conf"
	run_pbx "$1" "$d" "$dns"
}

# run_pbx NAME DIR DNS: a fake PBX with the DNs DNS (comma-separated)
# on CPU 1, its files in DIR; sets PBX_PID, PBX_PORT and PBX_CTL
run_pbx() {
	local d=$2
	rm -f "$d/pbx.ports"
	"${PIN_LG[@]}" "$BUILD/fakepbx" -l 127.0.0.1:0 -c 127.0.0.1:0 \
		-P "$d/pbx.ports" -u 9999 -p secret -d "$3" \
		>"$d/fakepbx.out" 2>"$d/fakepbx.log" &
	PBX_PID=$!
	wait_for 10 test -s "$d/pbx.ports" ||
		{ echo "$1: no fake PBX"; return 1; }
	PBX_PORT=$(sed -n 's/.*sip=\([0-9]*\).*/\1/p' "$d/pbx.ports")
	PBX_CTL=$(sed -n 's/.*control=\([0-9]*\).*/\1/p' "$d/pbx.ports")
}

# wait_for SECS CMD...: until CMD succeeds, at most SECS seconds
wait_for() {
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		"${@:2}" && return 0
		sleep 0.05
	done
	return 1
}

# free_port: a UDP and TCP port nothing listens on
free_port() {
	local p
	while :; do
		p=$(shuf -i 10000-32000 -n 1)
		ss -Hlun "sport = :$p" | grep -q . && continue
		ss -Hltn "sport = :$p" | grep -q . && continue
		echo "$p"
		return
	done
}

# median_of RAW FIELD VALUE PHASE KEY: median (min..max) of KEY in the
# PHASE lines of RAW whose second word is FIELD=VALUE ("run=N FIELD=V
# PHASE key=value...")
median_of() {
	awk -v sel="$2=$3" -v ph="$4" -v key="$5" '
		$2 == sel && $3 == ph {
			for (i = 4; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == key && kv[2] != "-1") v[n++] = kv[2] + 0
			}
		}
		END {
			if (!n) { print "n/a"; exit }
			for (i = 0; i < n; i++)
				for (j = i + 1; j < n; j++)
					if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
			med = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
			fmt = (med >= 100 || med == int(med)) ? "%.0f" : "%.3g"
			printf fmt " (" fmt ".." fmt ")\n", med, v[0], v[n - 1]
		}' "$1"
}
