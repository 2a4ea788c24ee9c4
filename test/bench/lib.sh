# Helpers of the benchmark scripts (sourced by bench.sh and compare.sh).

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

# wait_for SECS CMD...: until CMD succeeds, at most SECS seconds
wait_for() {
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		"${@:2}" && return 0
		sleep 0.05
	done
	return 1
}
