# Reads sipp -trace_msg message files of soak phones (test/soak/
# phone.xml) and reports what happened, per sipp call (one Call-ID is
# one subscription):
#
#   STAT NAME VALUE                  totals: subscribes (initial),
#                                    refreshes, unsubscribes, notifies,
#                                    resp_CODE (answers to SUBSCRIBEs),
#                                    term_REASON (terminated NOTIFYs)
#   ACTIVE CALLID ORBIT BODY         a subscription still in force (its
#                                    200 came, then no un-SUBSCRIBE, no
#                                    terminated NOTIFY, no refusal, and
#                                    sipp did not abort the call): the
#                                    body of its last NOTIFY on one line
#
# Usage: awk -v aborted=FILE -f calls.awk MSGFILE...
# FILE lists the Call-IDs of the calls sipp aborted, one a line.

BEGIN {
	if (aborted != "")
		while ((getline line < aborted) > 0)
			ended[line] = 1
}

function header(name,    i, n, v)
{
	n = length(name)
	for (i = 1; i <= nh; i++)
		if (tolower(substr(hl[i], 1, n + 1)) == tolower(name) ":") {
			v = substr(hl[i], n + 2)
			sub(/^[ \t]+/, "", v)
			return v
		}
	return ""
}

function flush(    cid, to, cseq, expires, ss, reason, code, ruri, orbit)
{
	if (!inmsg || first == "")
		return
	cid = header("Call-ID")
	split(header("CSeq"), cseq, " ")
	if (dir == "sent" && first ~ /^SUBSCRIBE /) {
		to = header("To")
		expires = header("Expires") + 0
		if (to !~ /;tag=/) {
			stat["subscribes"]++
			split(first, ruri, " ")
			orbit = ruri[2]
			sub(/^sip:/, "", orbit)
			sub(/@.*/, "", orbit)
			orb[cid] = orbit
		} else if (expires == 0) {
			stat["unsubscribes"]++
			ended[cid] = 1
		} else {
			stat["refreshes"]++
		}
	} else if (dir == "recv" && first ~ /^SIP\/2\.0 / &&
		   cseq[2] == "SUBSCRIBE") {
		split(first, code, " ")
		stat["resp_" code[2]]++
		if (code[2] + 0 >= 300)
			ended[cid] = 1
		else if (code[2] + 0 >= 200 && cseq[1] + 0 == 1)
			up[cid] = 1
	} else if (dir == "recv" && first ~ /^NOTIFY /) {
		stat["notifies"]++
		ss = header("Subscription-State")
		if (ss ~ /^terminated/) {
			reason = "none"
			if (match(ss, /reason=[a-z]+/))
				reason = substr(ss, RSTART + 7, RLENGTH - 7)
			stat["term_" reason]++
			ended[cid] = 1
		} else {
			last[cid] = body
		}
	}
}

/^-----/ {
	flush()
	inmsg = 0
	next
}
/^(UDP|TCP|TLS) message (sent|received)/ {
	inmsg = 1
	dir = ($3 == "sent") ? "sent" : "recv"
	first = ""
	nh = 0
	inbody = 0
	body = ""
	next
}
inmsg {
	sub(/\r$/, "")
	if (first == "") {
		if ($0 != "")
			first = $0
		next
	}
	if (!inbody) {
		if ($0 == "")
			inbody = 1
		else
			hl[++nh] = $0
		next
	}
	body = body $0
}
END {
	flush()
	for (s in stat)
		print "STAT", s, stat[s]
	for (cid in up)
		if (!(cid in ended))
			print "ACTIVE", cid, orb[cid], \
				(cid in last) ? last[cid] : "-"
}
