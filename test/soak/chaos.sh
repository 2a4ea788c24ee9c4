#!/bin/bash
# The chaos of the soak test (test/soak/run.sh): helpers shared with
# run.sh (sourced) and the three loops, each run as its own process
# ("bash chaos.sh flapper|parker|reloader", with T, PBX_CTL and PB_PID
# in the environment) until $T/stop exists.  Separate processes rather
# than subshells of run.sh: a subshell carries lib.sh's EXIT trap, and
# bash 5.2 was seen running it in one, stopping the daemons mid-run.

# the fake PBX's parking DNs; 100..102 are only mapped by the extras
DNS=('*00' '*01' '*02' '*03' '*04' '*05' '*06' '*07' '*08' '*09' \
	100 101 102)

now() { date +%s; }
# nap SECONDS: sleep, but return early (false) once $T/stop exists
nap() {
	local i
	for ((i = 0; i < $1 * 4; i++)); do
		[ -e "$T/stop" ] && return 1
		sleep 0.25
	done
}
ev() { echo "$(date +%T.%3N) $*" >>"$T/events.log"; }
# pbxq COMMAND...: one control command, the reply on stdout; unlike
# lib.sh's pbx it does not exit (for the background loops)
pbxq() {
	local reply=
	exec 6<>"/dev/tcp/127.0.0.1/$PBX_CTL" || { echo "error connect"; \
		return 1; }
	echo "$*" >&6
	read -r -t 10 reply <&6
	exec 6>&-
	echo "$reply"
	[[ $reply == ok* ]]
}

# dn_calls STATE DN: the calls parked on DN (comma list, oldest first)
# from the reply to "state" ("ok DN=CALLID,CALLID;DN=CALLID")
dn_calls() {
	local st=${1#ok} p
	st=${st# }
	IFS=';' read -ra parts <<<"$st"
	for p in "${parts[@]}"; do
		[ "${p%%=*}" = "$2" ] && { echo "${p#*=}"; return; }
	done
}

# the caller of call cN: number 55N, name "Caller N" (every 4th with an
# ampersand, which the documents must escape)
number_of() { echo "55${1#c}"; }
name_of() {
	local n=${1#c}
	if [ $((n % 4)) = 0 ]; then echo "Caller $n & Co"
	else echo "Caller $n"; fi
}

# write_map FILE: a random orbit map.  park-1..park-10 (*00..*09) never
# change, so that every final check covers them; the extras come and go
# and change their labels.  A second name on *00 and orbits on DNs
# nothing watched before (parkblf then subscribes again upstream).
LABELS=("Front desk" "Back office" "Desk 2" "Lobby" "Overflow")
write_map() {
	local i
	{
		echo "# soak orbit map, $(date +%T.%N)"
		for i in 0 1 2 3 4 5 6 7 8 9; do
			echo "park-$((i + 1)) *0$i retrieve=*1$i label=\"Orbit $i\""
		done
		[ $((RANDOM % 5)) -lt 3 ] &&
			echo "park-11 100 label=\"${LABELS[RANDOM % 5]}\""
		[ $((RANDOM % 5)) -lt 3 ] &&
			echo "park-12 101 retrieve=*7101 label=\"${LABELS[RANDOM % 5]}\""
		[ $((RANDOM % 5)) -lt 3 ] && echo "park-13 102"
		[ $((RANDOM % 5)) -lt 3 ] &&
			echo "park-14 *00 label=\"${LABELS[RANDOM % 5]} 0\""
	} >"$1"
	return 0
}

# A broken line for a map, and what parkblf must say about it
BROKEN=('park-1 *05|is already defined' 'broken|has no DN' \
	'park-15 *03 privacy=maybe|privacy' 'park-16 *04 label="open|')

# --- the loops ---

flapper() {
	local d
	while [ ! -e "$T/stop" ]; do
		nap $((2 + RANDOM % 4)) || break
		d=$((1 + RANDOM % 6))
		case $((RANDOM % 6)) in
		0)	ev "flap terminate"
			pbxq terminate deactivated >/dev/null ;;
		1)	ev "flap refuse ${d}s"
			pbxq refuse 503 1 >/dev/null
			[ $((RANDOM % 2)) = 0 ] &&
				pbxq terminate deactivated >/dev/null
			nap "$d"
			pbxq accept >/dev/null ;;
		2)	ev "flap forget"
			pbxq forget >/dev/null ;;
		3)	ev "flap silent ${d}s"
			pbxq silent on >/dev/null
			nap "$d"
			pbxq silent off >/dev/null ;;
		*)	ev "flap stay" ;;
		esac
	done
}

parker() {
	local n=0 st dn calls all pick
	while [ ! -e "$T/stop" ]; do
		sleep "0.$((3 + RANDOM % 5))"
		st=$(pbxq state) || { ev "PBXERR state: $st"; continue; }
		dn=${DNS[RANDOM % ${#DNS[@]}]}
		calls=$(dn_calls "$st" "$dn")
		IFS=, read -ra all <<<"$calls"
		if [ ${#all[@]} = 0 ] ||
			{ [ ${#all[@]} -lt 3 ] && [ $((RANDOM % 2)) = 0 ]; }; then
			n=$((n + 1))
			pbxq park "$dn" "c$n" "$(number_of "c$n")" \
				"$(name_of "c$n")" >/dev/null &&
				ev "park $dn c$n" || ev "PBXERR park $dn c$n"
		elif [ ${#all[@]} -gt 1 ] && [ $((RANDOM % 3)) = 0 ]; then
			pick=${all[RANDOM % ${#all[@]}]}
			pbxq retrieve "$dn" "$pick" >/dev/null &&
				ev "retrieve $dn $pick" || ev "PBXERR retrieve"
		else
			pbxq retrieve "$dn" >/dev/null &&
				ev "retrieve $dn ${all[0]}" || ev "PBXERR retrieve"
		fi
	done
}

applied() { grep -Ec 'reload: [0-9]+ orbits from' "$T/parkblf.log"; }
refused() { grep -c 'the map in force stays' "$T/parkblf.log"; }

# one map rewrite: atomically (rename), then SIGHUP or the file check
rewrite_map() {
	local a=$(applied) r=$(refused) b line want
	write_map "$T/orbits.new"
	if [ "$1" = broken ]; then
		b=${BROKEN[RANDOM % ${#BROKEN[@]}]}
		line=$((2 + RANDOM % 10))
		sed -i "${line}i ${b%%|*}" "$T/orbits.new"
		want="orbits.conf:$line: .*${b#*|}"
	else
		cp "$T/orbits.new" "$T/orbits.good"
	fi
	mv "$T/orbits.new" "$T/orbits.conf"
	[ $((RANDOM % 2)) = 0 ] && kill -HUP "$PB_PID"
	if [ "$1" = broken ]; then
		if within 5 log_has $((r + 1)) 'the map in force stays' &&
			grep -Eq -- "$want" "$T/parkblf.log"; then
			ev "reload broken line $line (${b%%|*}): refused"
		else
			ev "FAIL reload: broken map not refused as '$want'"
		fi
	elif within 5 log_has $((a + 1)) 'reload: [0-9]+ orbits from'
	then
		ev "reload good: $(grep -c '^park' "$T/orbits.good") orbits"
	else
		ev "FAIL reload: good map not applied"
	fi
}

reloader() {
	while [ ! -e "$T/stop" ]; do
		nap $((15 + RANDOM % 11)) || break
		if [ $((RANDOM % 5)) = 0 ]; then
			rewrite_map broken
		else
			rewrite_map good
		fi
	done
}

# within SECONDS COMMAND...: poll every 50 ms until COMMAND succeeds
within() {
	local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 ))
	shift
	until "$@"; do
		[ $(( $(date +%s%N) / 1000000 )) -lt $deadline ] || return 1
		sleep 0.05
	done
}
# log_has N REGEX: parkblf's log has at least N lines matching
log_has() { [ "$(grep -Ec -- "$2" "$T/parkblf.log")" -ge "$1" ]; }

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case $1 in
	flapper|parker|reloader) "$1" ;;
	*) echo "usage: chaos.sh flapper|parker|reloader" >&2; exit 2 ;;
	esac
fi
