#!/bin/bash
# make ccheck: the machine-checked part of the code style, on every C
# file: at most 79 columns (tabs 8 wide), no trailing blanks, no CR,
# tabs for indentation, a newline at the end.
cd "$(dirname "$0")/.." || exit 2
status=0
while IFS= read -r f; do
	out=$(expand -t 8 "$f" | awk -v f="$f" '
		length($0) > 79 { printf "%s:%d: longer than 79 columns\n", f, NR }')
	out+=$(awk -v f="$f" '
		/[ \t]\r?$/ { printf "\n%s:%d: trailing blank", f, NR }
		/\r$/ { printf "\n%s:%d: CR line end", f, NR }
		/^        / { printf "\n%s:%d: spaces for indentation", f, NR }
	' "$f")
	[ -n "$(tail -c 1 "$f")" ] && out+=$'\n'"$f: no newline at end"
	if [ -n "$out" ]; then
		echo "$out" | sed '/^$/d'
		status=1
	fi
done < <(git ls-files '*.c' '*.h' 2>/dev/null || find src include modules test -name '*.[ch]')
[ $status -eq 0 ] && echo "ccheck: OK"
exit $status
